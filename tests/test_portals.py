"""The portal registry: the shipped file, validation messages, and `crawler portals` / `crawler due`."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.recurring.portals import PortalConfigError, load_registry
from tests.support.common import REPO, run_cli

GOOD = """
[portals.binjiang]
name = "滨江区人民政府"
start_urls = ["http://www.hhtz.gov.cn/"]
allowed_hosts = ["www.hhtz.gov.cn"]
asset_hosts = ["zjjcmspublic.oss-cn-hangzhou-zwynet-d01-a.internet.cloud.zj.gov.cn"]
cms = "hanweb"
language = "zh"
schedule = "0 3 * * *"
delay = 2.5
concurrency = 1
refresh_window = "14d"
enabled = false
"""


def test_the_shipped_registry_has_the_demo_portal() -> None:
    portals = load_registry(REPO / "portals.toml")
    demo = portals["demo"]
    assert demo.start_urls == ("http://127.0.0.1:8000/",)
    assert demo.spider == "hanweb" and demo.enabled
    assert demo.schedule.interval is not None and demo.refresh_window.days == 30
    assert demo.allowed_ips == ("127.0.0.1:8000", "127.0.0.2:8000") and demo.asset_hosts == ("127.0.0.2",)


def test_every_key_is_read(tmp_path: Path) -> None:
    path = tmp_path / "portals.toml"
    path.write_text(GOOD, encoding="utf-8")
    portal = load_registry(path)["binjiang"]
    assert portal.name == "滨江区人民政府"
    assert portal.asset_hosts == ("zjjcmspublic.oss-cn-hangzhou-zwynet-d01-a.internet.cloud.zj.gov.cn",)
    assert portal.schedule.cron == "0 3 * * *"
    assert (portal.delay, portal.concurrency, portal.refresh_window.days, portal.enabled) == (2.5, 1, 14, False)


def test_defaults_fill_optional_keys(tmp_path: Path) -> None:
    path = tmp_path / "portals.toml"
    path.write_text('[portals.x]\nname = "X"\nstart_urls = ["https://a.gov.cn/col/col1/index.html"]\n'
                    'schedule = "6h"\n', encoding="utf-8")
    portal = load_registry(path)["x"]
    assert portal.allowed_hosts == ("a.gov.cn",) and portal.asset_hosts == ()
    assert (portal.cms, portal.language, portal.enabled) == ("hanweb", "zh", True)


@pytest.mark.parametrize(("replace", "by", "message"), [
    ('schedule = "0 3 * * *"', 'schedule = "dayly"', "key 'schedule': expected an interval"),
    ('delay = 2.5', 'delay = -1', "key 'delay': expected a number of seconds >= 0, got -1"),
    ('concurrency = 1', 'concurrency = 0', "key 'concurrency': expected an integer >= 1"),
    ('cms = "hanweb"', 'cms = "wordpress"', "key 'cms': expected one of hanweb, got 'wordpress'"),
    ('start_urls = ["http://www.hhtz.gov.cn/"]', 'start_urls = ["ftp://x/"]', "key 'start_urls': expected"),
    ('start_urls = ["http://www.hhtz.gov.cn/"]', "", "key 'start_urls' is missing"),
    ('allowed_hosts = ["www.hhtz.gov.cn"]', 'allowed_hosts = ["www.hhtz.gov.cn:80"]',
     "key 'allowed_hosts': expected a list of host names without ports"),
    ('refresh_window = "14d"', 'refresh_window = "two weeks"', "key 'refresh_window': expected a duration"),
    ('enabled = false', 'enabled = "no"', "key 'enabled': expected true or false"),
    ('enabled = false', 'enabeld = false', "unknown key 'enabeld'"),
    ('language = "zh"', 'language = "fr"', "key 'language': expected one of zh, en"),
    ('enabled = false', 'enabled = false\nallowed_ips = ["10.0.0.0/8", "localhost:80"]',
     "key 'allowed_ips': expected a list of IP addresses, networks (10.0.0.0/8) or address:port entries"),
])
def test_a_malformed_entry_names_the_portal_the_key_and_what_is_expected(
        tmp_path: Path, replace: str, by: str, message: str) -> None:
    path = tmp_path / "portals.toml"
    assert replace in GOOD
    path.write_text(GOOD.replace(replace, by), encoding="utf-8")
    with pytest.raises(PortalConfigError) as info:
        load_registry(path)
    assert "portal 'binjiang'" in str(info.value) and message in str(info.value)


def test_not_toml_and_bad_ids_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "portals.toml"
    path.write_text("[portals.demo\n", encoding="utf-8")
    with pytest.raises(PortalConfigError, match="not valid TOML"):
        load_registry(path)
    path.write_text(GOOD.replace("[portals.binjiang]", "[portals.Bin_Jiang]"), encoding="utf-8")
    with pytest.raises(PortalConfigError, match="portal 'Bin_Jiang': the id must"):
        load_registry(path)


def test_cli_lists_portals_and_rejects_a_bad_registry_with_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "portals.toml"
    path.write_text(GOOD + GOOD.replace("binjiang", "other").replace("enabled = false", "enabled = true"),
                    encoding="utf-8")
    listing = run_cli("portals", "--portals", str(path), "--archive-root", str(tmp_path / "out"), timeout=60)
    assert listing.returncode == 0, listing.stderr
    lines = {line.split()[0]: line for line in listing.stdout.splitlines()[1:]}
    assert "never" in lines["binjiang"] and lines["binjiang"].rstrip().endswith("-")  # disabled: never due
    assert lines["other"].rstrip().endswith("now")
    due = run_cli("due", "--portals", str(path), "--archive-root", str(tmp_path / "out"), timeout=60)
    assert due.stdout.split() == ["other"]
    path.write_text(GOOD.replace("delay = 2.5", "delay = 'slow'"), encoding="utf-8")
    bad = run_cli("portals", "--portals", str(path), timeout=60)
    assert bad.returncode == 2
    assert "portal 'binjiang': key 'delay'" in bad.stderr
