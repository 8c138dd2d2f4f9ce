"""Run one real crawl against the fault server, in a child process, with the project's own settings.

``run_fault_crawl(out_dir, urls=[...])`` crawls a list of URLs with the ``fault_urls`` test spider (each 2xx
response of a release-like URL becomes a release item through ``spiders.hanweb.build_release_item``), and
``run_fault_crawl(out_dir, start_url=..., spider="hanweb")`` runs the real hanweb spider. Both load
``crawler.settings`` (so the real middlewares, capture extension and pipelines run), place outputs as
``crawler crawl --out`` does, and apply ``TEST_SETTINGS`` and the test's own overrides on top.

As a script (``python tests/fault_crawl.py CONFIG_JSON``) it is the child process; it writes ``stats.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.common import REPO, CrawlOutput
from tests.support.invariants import assert_accounted

#: Overrides every fault crawl gets: fast, loopback, quiet; tests override further.
TEST_SETTINGS: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "ROBOTSTXT_OBEY": False,
    "DOWNLOAD_TIMEOUT": 3,
    "RETRY_TIMES": 1,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "PROGRESS_ENABLED": False,
    "WARC_FSYNC_INTERVAL": 0.2,
    "JSONL_FSYNC_INTERVAL": 0.2,
    "WARC_CRAWLHOST": "faulttest",
    # report.json is written and checked after every fault crawl; report.html's plots are the report tests' business
    "REPORT_PLOTS": False,
    "LOG_LEVEL": "DEBUG",
    # Crawl subprocesses may only connect to the loopback fixture servers (the IP policy refuses the rest).
    "ARCHIVER_ALLOWED_IPS": "127.0.0.1",
}


@dataclass
class FaultCrawl(CrawlOutput):
    """What one crawl left behind."""

    out_dir: Path
    returncode: int
    stats: dict[str, Any]
    output: str

    @property
    def log(self) -> str:
        path = self.out_dir / "crawl.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def rows(self, name: str = "releases.jsonl") -> list[dict[str, Any]]:
        path = self.out_dir / name
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self.rows("failures.jsonl")

    def failure_for(self, url: str) -> dict[str, Any] | None:
        return next((row for row in self.failures if row["url"] == url), None)

    def row_for(self, url: str) -> dict[str, Any] | None:
        return next((row for row in self.rows() if row["url"] == url), None)


def run_fault_crawl(out_dir: Path, *, urls: list[str | dict[str, Any]] | None = None, start_url: str | None = None,
                    spider: str = "fault_urls", settings: dict[str, Any] | None = None,
                    timeout: float = 120) -> FaultCrawl:
    """Run one crawl in a child process and return its outputs (the crawl's exit status is not asserted)."""
    base = dict(TEST_SETTINGS)
    if spider == "fault_urls":
        # The URL-list spider lists nothing, so a recurring run would take every release as vanished from the
        # lists and re-request it at idle (removal checks): these are one-off crawls.
        base["RECURRING_ENABLED"] = False
    config = {"out_dir": str(out_dir), "urls": urls or [], "start_url": start_url, "spider": spider,
              "settings": {**base, **(settings or {})}}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, str(Path(__file__)), json.dumps(config)], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO, env=env)
    stats_path = out_dir / "stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    crawl = FaultCrawl(out_dir, proc.returncode, stats, proc.stdout + proc.stderr)
    if stats.get("run/id") and (out_dir / "report.json").exists():
        assert_accounted(out_dir)  # the conservation law after every fault crawl
    return crawl


def vm_hwm_kib() -> int:
    """Peak resident memory of this process image in KiB (``VmHWM``: reset by exec, unlike ``ru_maxrss``)."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def _child(config: dict[str, Any]) -> int:
    import warnings

    from scrapy.crawler import CrawlerProcess
    from scrapy.exceptions import ScrapyDeprecationWarning
    from scrapy.utils.project import get_project_settings

    from crawler.cli.common import check_writable_dir as _check_writable_dir
    from crawler.cli.run import crawl_settings

    warnings.simplefilter("always", ScrapyDeprecationWarning)
    out_dir = Path(config["out_dir"])
    _check_writable_dir(out_dir / "warc", "WARC output")
    settings = get_project_settings()
    for key, value in crawl_settings(out_dir, portal="test", delay=None, extra=config["settings"]).items():
        settings.set(key, value, priority="cmdline")
    process = CrawlerProcess(settings)
    if config["spider"] == "hanweb":
        crawler = process.create_crawler("hanweb")
        process.crawl(crawler, start_url=config["start_url"], portal="test")
    else:
        from scrapy.utils.misc import load_object

        from tests.support.spiders_for_tests import UrlListSpider

        # "fault_urls", or the dotted path of another URL-list spider (same ``urls``/``portal`` arguments)
        crawler = process.create_crawler(UrlListSpider if config["spider"] == "fault_urls"
                                         else load_object(config["spider"]))
        process.crawl(crawler, urls=json.dumps(config["urls"]), portal="test")
    process.start()
    assert crawler.stats is not None
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int | float | str)}
    stats["test/vm_hwm_kib"] = vm_hwm_kib()  # this process's peak RSS (ru_maxrss may be the parent's after exec)
    (out_dir / "stats.json").write_text(json.dumps(stats, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(_child(json.loads(sys.argv[1])))
