"""One crawl in this process: the per-run settings, Ctrl-C acknowledged on the terminal, the end-of-crawl summary
that states the verdict first (`crawler.report.verdict`), and the exit status that follows it."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.cli.common import CliError, check_writable_dir
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


@dataclass
class CrawlJob:
    """One portal's crawl in a multi-crawl process: what ``crawler crawl`` would be given for it."""

    portal: str
    start_url: str
    out_dir: Path
    delay: float | None = None
    allowed_hosts: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


#: Called when a crawl of `run_crawls` ends: the job, its final stats (None when it could not start) and the
#: error that kept it from starting or ended it early (None for a crawl that ran to its close).
JobDone = Callable[[CrawlJob, dict[str, Any] | None, str | None], None]


def run_crawls(jobs: list[CrawlJob], *, concurrency: int, process_log: Path, on_done: JobDone) -> None:
    """Run several crawls in this process, at most ``concurrency`` at a time, each with its own settings, output
    directory, WARC files, state, lock, report and ``crawl.log`` (`crawler.crawl_logs`); the log lines of no
    crawl go to ``process_log``. One reactor, Scrapy's per-host download slots and delays within each crawl.
    ``on_done`` is called as each crawl ends, in the reactor thread."""
    from scrapy import signals
    from scrapy.utils.project import get_project_settings

    from crawler import crawl_logs

    settings = get_project_settings()
    settings.set("LOG_FILE", str(process_log), priority="cmdline")
    settings.set("LOG_FILE_APPEND", True, priority="cmdline")
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")  # crawl_logs routes the records
    # The reactor has one name resolver, and the IP policy sits in it (crawler.fetch.ip_policy), built from the
    # process's settings: a batch pools its portals' allowances of non-public addresses (docs/recurring.md).
    from scrapy.settings import BaseSettings

    pooled_ips = sorted({str(entry) for job in jobs
                         for entry in BaseSettings(job.extra).getlist("ARCHIVER_ALLOWED_IPS")})
    if pooled_ips:
        settings.set("ARCHIVER_ALLOWED_IPS", pooled_ips, priority="cmdline")
    process = _process_class()(settings)
    crawl_logs.start_routing(settings)
    pending = list(jobs)
    running: list[Any] = []
    stretched = fsync_intervals(settings, concurrency)

    def start_next() -> None:
        while pending and len(running) < concurrency:
            job = pending.pop(0)
            try:
                check_writable_dir(job.out_dir / "warc", "WARC output")
            except CliError as exc:  # one portal's directory, not the batch
                on_done(job, None, str(exc))
                continue
            crawler = process.create_crawler("hanweb")
            for key, value in crawl_settings(job.out_dir, portal=job.portal, delay=job.delay,
                                             extra=job.extra).items():
                crawler.settings.set(key, value, priority="cmdline")
            for key, value in stretched.items():
                if key not in job.extra:  # a run that sets its own interval keeps it
                    crawler.settings.set(key, value, priority="cmdline")
            handler = crawl_logs.add_crawl_log(crawler)
            crawler.signals.connect(_LogCounterFix(crawler), signal=signals.engine_started, weak=False)
            context = contextvars.copy_context()
            context.run(crawl_logs.CURRENT_CRAWLER.set, crawler)
            running.append(crawler)
            done = context.run(process.crawl, crawler, start_url=job.start_url, portal=job.portal,
                               allowed_hosts=job.allowed_hosts)
            done.addBoth(finished, job, crawler, handler)

    def finished(result: Any, job: CrawlJob, crawler: Any, handler: logging.Handler) -> None:
        running.remove(crawler)
        logging.root.removeHandler(handler)
        handler.close()
        error = None if not hasattr(result, "getErrorMessage") else result.getErrorMessage()
        stats = dict(crawler.stats.get_stats()) if getattr(crawler, "_stats", None) is not None else None
        try:
            on_done(job, stats, error)
        finally:
            start_next()
            if not pending and not running:
                _stop_reactor_soon()

    start_next()
    if not running:
        return
    try:
        process.start(stop_after_crawl=False)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


#: The intervals of a crawl's periodic fsyncs (its WARC, its JSONL, its state checkpoint).
FSYNC_INTERVALS = ("WARC_FSYNC_INTERVAL", "JSONL_FSYNC_INTERVAL", "RECURRING_FLUSH_INTERVAL")


def fsync_intervals(settings: Any, concurrency: int) -> dict[str, float]:
    """The fsync intervals of each crawl of a batch, stretched so that all of them together stay within
    ``BATCH_FSYNCS_PER_SECOND`` (crawler/settings.py); never shorter than the settings' own."""
    from crawler import wiring

    budget = max(wiring.getfloat(settings, "BATCH_FSYNCS_PER_SECOND"), 0.001)
    floor = concurrency * len(FSYNC_INTERVALS) / budget
    return {key: max(wiring.getfloat(settings, key), floor) for key in FSYNC_INTERVALS}


def _stop_reactor_soon() -> None:
    from twisted.internet import reactor as installed

    reactor: Any = installed
    if reactor.running:
        reactor.callLater(0, reactor.stop)


class _LogCounterFix:
    """At ``engine_started``: the crawler's ``log_count/*`` stats count its own lines only."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    def __call__(self) -> None:
        from crawler import crawl_logs

        crawl_logs.own_log_counter(self.crawler)


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
