"""One crawl in this process: the per-run settings, Ctrl-C acknowledged on the terminal, the end-of-crawl summary
that states the verdict first (`crawler.report.verdict`), and the exit status that follows it."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

from crawler.cli.common import check_writable_dir
from crawler.report.verdict import Verdict, decide


def crawl_settings(out_dir: Path, *, portal: str, delay: float | None, extra: dict[str, Any] | None = None,
                   ) -> dict[str, Any]:
    """Per-run setting overrides that place every output under ``out_dir``."""
    settings: dict[str, Any] = {
        "WARC_OUTPUT_DIR": str(out_dir / "warc"),
        "JSONL_OUTPUT_PATH": str(out_dir / "releases.jsonl"),
        "FAILURES_OUTPUT_PATH": str(out_dir / "failures.jsonl"),
        "PORTAL_ID": portal,
        "LOG_FILE": str(out_dir / "crawl.log"),
        "LOG_FILE_APPEND": True,
    }
    if delay is not None:
        settings["DOWNLOAD_DELAY"] = delay
    settings.update(extra or {})
    return settings


def _say(text: str) -> None:
    """Write to the terminal from a signal handler (no buffered stream: it may be in the middle of a write)."""
    with contextlib.suppress(OSError):
        os.write(2, text.encode("utf-8", "replace"))


def _process_class() -> Any:
    from scrapy.crawler import CrawlerProcess

    class AcknowledgingCrawlerProcess(CrawlerProcess):
        """`CrawlerProcess` whose Ctrl-C is acknowledged on the terminal at once (the log is in crawl.log)."""

        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            _say(f"\nstopping: finishing {self._in_flight()} requests in flight, Ctrl-C again to stop now\n")
            super()._signal_shutdown(signum, frame)

        def _signal_kill(self, signum: int, frame: Any) -> None:
            _say("stopping now: requests in flight are abandoned (the next run resumes)\n")
            super()._signal_kill(signum, frame)

        def _in_flight(self) -> int:
            count = 0
            for crawler in list(self.crawlers):
                engine = getattr(crawler, "engine", None)
                downloader = getattr(engine, "downloader", None)
                count += len(getattr(downloader, "active", ()) or ())
            return count

    return AcknowledgingCrawlerProcess


def run_crawl(start_url: str, out_dir: Path, *, portal: str, delay: float | None = None,
              extra: dict[str, Any] | None = None, allowed_hosts: str | None = None) -> dict[str, Any]:
    """Run one crawl in this process and return Scrapy's final stats."""
    from scrapy.utils.project import get_project_settings

    check_writable_dir(out_dir / "warc", "WARC output")
    settings = get_project_settings()
    for key, value in crawl_settings(out_dir, portal=portal, delay=delay, extra=extra).items():
        settings.set(key, value, priority="cmdline")
    process = _process_class()(settings)
    crawler = process.create_crawler("hanweb")
    process.crawl(crawler, start_url=start_url, portal=portal, allowed_hosts=allowed_hosts)
    try:
        process.start()
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())


def verdict_of(stats: dict[str, Any]) -> Verdict:
    """The run's verdict: what the report extension decided at close (the same function of the same stats)."""
    return decide(stats)


def summary_lines(stats: dict[str, Any], verdict: Verdict, elapsed: float, out_dir: Path) -> list[str]:
    """The end-of-crawl summary: the outcome in words first, then what is missing and where, then the figures."""
    def n(key: str) -> int:
        try:
            return int(stats.get(key) or 0)
        except (TypeError, ValueError):
            return 0

    lines = [verdict.headline]
    if verdict.outcome == "not_run":  # nothing was crawled: nothing more to say
        return [*lines, f"exit status {int(verdict.exit_status)} ({verdict.outcome})"]
    lines += [f"  - {detail}" for detail in verdict.details]
    lines += [f"  note: {note}" for note in verdict.notes]
    archived = n("ledger/archived")
    rate = archived / elapsed if elapsed > 0 else 0.0
    lines.append(f"run {stats.get('run/id', '?')} of portal {stats.get('run/portal', '?')}: {elapsed:.1f} s, "
                 f"{n('response_received_count')} pages, {archived} releases archived ({rate:.1f}/s), "
                 f"{n('failures/count')} failure rows, WARC {n('warc/records')} records in {n('warc/files')} file(s)")
    warcs = sorted((out_dir / "warc").glob("*.warc.gz"))
    lines.append(f"WARC files ({len(warcs)}): {out_dir / 'warc'}")
    lines += [f"  {path}" for path in warcs[-3:]]
    lines.append(f"JSON Lines: {out_dir / 'releases.jsonl'}   failures: {out_dir / 'failures.jsonl'}")
    lines.append(f"report:     {out_dir / 'report.html'} (and report.json)")
    lines.append(f"crawl log:  {out_dir / 'crawl.log'}")
    lines.append(f"exit status {int(verdict.exit_status)} ({verdict.outcome})")
    return lines
