"""report.json and report.html: the schema, the rebuild from the outputs, Chromium, and the quick starts.

One small demo crawl (``crawler demo``) is made once for the module; its output is what a new user has after
``make demo``. The Chromium test needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them
from apt when missing) and selenium; the page is opened from a file with the network off.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from crawler.report.write import validate_report
from tests.support.common import BIN, REPO, run_cli
from tests.support.invariants import assert_accounted, load_report

RELEASES = 120


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    proc = run_cli("demo", "--releases", str(RELEASES), "--out", str(out), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.splitlines()[1].startswith("COMPLETE: ")  # the line after "simulated portal: ..."
    return out


def test_report_json_validates_and_says_what_the_crawl_did(demo: Path) -> None:
    report = assert_accounted(demo, 0)
    assert report["verdict"]["outcome"] == "complete" and report["portal"] == "demo"
    assert report["releases"]["archived"] == RELEASES == report["releases"]["learnt"]
    assert sum(c["listed"] for c in report["columns"]) >= RELEASES
    assert all(c["declared_total"] == c["listed"] for c in report["columns"] if c["declared_total"] is not None)
    assert sum(report["by_month"].values()) == RELEASES
    assert report["http"]["statuses"]["200"] > RELEASES and report["warc"]["file_bytes"] > 0
    assert report["offsite"]["links"] > 0 and not any(f["reason"] == "offsite" for f in
                                                      report["failures"]["examples"])
    broken = dict(report, verdict=dict(report["verdict"], outcome="fine"))
    with pytest.raises(ValueError, match="verdict/outcome"):
        validate_report(broken)


def test_the_run_id_is_in_warcinfo_the_report_the_failure_rows_and_the_state(demo: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    from crawler.recurring.state import CrawlState

    run_id = load_report(demo)["run_id"]
    for path in sorted((demo / "warc").glob("*.warc.gz")):
        with path.open("rb") as handle:
            info = next(iter(ArchiveIterator(handle)))
            assert info.rec_type == "warcinfo" and f"run-id: {run_id}" in info.content_stream().read().decode()
    assert {json.loads(line)["run_id"] for line in (demo / "failures.jsonl").read_text("utf-8").splitlines()} <= {
        run_id}
    state = CrawlState(demo / "state.sqlite")
    try:
        assert [(r["run_uid"], r["outcome"]) for r in state.runs("demo")] == [(run_id, "complete")]
    finally:
        state.close()


def test_the_stats_dump_is_json(demo: Path) -> None:
    text = (demo / "crawl.log").read_text("utf-8")
    at = text.rindex("Dumping Scrapy stats (JSON):")
    stats, _ = json.JSONDecoder().raw_decode(text, text.index("{", at))
    assert stats["run/outcome"] == "complete" and stats["ledger/archived"] == RELEASES
    assert "datetime.datetime(" not in text


def test_crawler_report_rebuilds_both_from_the_outputs_alone(demo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(demo, copy)
    live = load_report(copy)
    (copy / "report.json").unlink()
    (copy / "report.html").unlink()
    started = time.monotonic()
    proc = run_cli("report", str(copy), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("COMPLETE: ")
    rebuilt = load_report(copy)
    differ = {key for key in live if live[key] != rebuilt[key]}
    assert differ == {"generated_at", "rebuilt_from_outputs"}, differ
    assert (copy / "report.html").stat().st_size > 10_000
    assert time.monotonic() - started < 30


def test_an_old_crawl_without_stats_gets_a_report_too(demo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "old"
    shutil.copytree(demo, copy)
    for name in ("report.json", "report.html", "crawl.log"):
        (copy / name).unlink()
    proc = run_cli("report", str(copy), timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = load_report(copy)
    assert report["stats_found"] is False and report["releases"]["archived"] == RELEASES
    assert report["http"]["statuses"]["200"] > RELEASES  # from the WARC files


def test_crawler_report_refuses_what_is_no_crawl(tmp_path: Path) -> None:
    proc = run_cli("report", str(tmp_path / "nothing"), timeout=60)
    assert proc.returncode == 2 and "no such directory" in proc.stderr


# -- report.html in headless Chromium, network off ------------------------------------------------------------

def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.fail("Debian's chromium and chromium-driver are needed (make test installs them from apt)")
    return browser, driver


def test_report_html_loads_in_chromium_with_no_console_error_and_shows_its_plots(demo: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _chromium()
    html = (demo / "report.html").read_text("utf-8")
    assert "<script" not in html.lower() and not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
                     "--window-size=1200,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.get((demo / "report.html").as_uri())
        state = driver.execute_script("return document.readyState")
        plots: list[dict[str, Any]] = driver.execute_script(
            "return Array.from(document.querySelectorAll('figure svg')).map(s => {const r = s.getBoundingClientRect();"
            " return {w: r.width, h: r.height, bars: s.querySelectorAll('path, rect, use').length};})")
        resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        title = driver.title
        verdict = driver.find_element("css selector", ".verdict strong").text
    finally:
        driver.quit()
    assert state == "complete" and "complete" in title
    assert verdict.lower() == "complete"
    assert not errors, errors
    assert resources == [], resources  # nothing fetched: the page is self-contained
    assert len(plots) >= 6, plots
    assert all(p["w"] > 100 and p["h"] > 50 and p["bars"] > 3 for p in plots), plots


# -- the quick starts of README.md and the docs, run as written against a real demo output ----------------------

def quick_start_commands() -> list[str]:
    """The commands between the quick-start markers of README.md (they name the demo's output, output/demo)."""
    text = (REPO / "README.md").read_text("utf-8")
    block = text.split("<!-- quick-start:begin -->", 1)[1].split("<!-- quick-start:end -->", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines()
            if line.strip().startswith((".venv/bin/crawler ", "mkdir -p replay"))]


def test_the_readme_quick_start_runs_as_written_on_the_demo_output(demo: Path, tmp_path: Path) -> None:
    commands = quick_start_commands()
    assert len(commands) >= 7, commands
    work = tmp_path / "work"
    (work / "output").mkdir(parents=True)
    shutil.copytree(demo, work / "output" / "demo")
    (work / ".venv").symlink_to(BIN.parent)
    (work / ".pywb-venv").symlink_to(REPO / ".pywb-venv")
    for command in commands:
        proc = subprocess.run(command, shell=True, cwd=work, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}"
    assert (work / "output" / "demo" / "replayed.jsonl").stat().st_size > 0
    assert (work / "demo.cdxj").stat().st_size > 0 and (work / "demo.wacz").stat().st_size > 0
    assert (work / "demo-state.csv").read_text("utf-8").count("\n") == RELEASES + 1
    assert list((work / "replay" / "collections" / "demo" / "indexes").glob("*.cdxj"))
