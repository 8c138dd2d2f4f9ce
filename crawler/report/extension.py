"""The run's verdict and report, at the end of every crawl (an extension).

At ``spider_opened`` the run's id, portal and start URLs go into the stats (``run/id``, ``run/portal``,
``run/start_urls``). At ``spider_closed``, after the ledger has settled every release URL (`ReleaseLedger`, 40),
the failure log has flushed (50) and the WARC files are closed (100), and before the recurring controller writes
its run record (150): the recurring drop flags are computed, the verdict is decided from the final stats
(``run/outcome``, ``run/exit_status``, ``run/reason``: the run record and the ``crawler`` command read them there),
and ``report.json`` + ``report.html`` are written beside ``releases.jsonl`` (``REPORT_DIR``). A report that cannot be
written (a full disk) makes the run ``failed``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import wiring
from crawler.recurring.controller import get_recurring
from crawler.report.build import ReportPaths, build_report
from crawler.report.verdict import decide
from crawler.report.write import write_report

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def report_paths(settings: Any) -> ReportPaths:
    """Where a live crawl's outputs are, from its settings."""
    releases = Path(wiring.get(settings, "JSONL_OUTPUT_PATH"))
    failures = wiring.get(settings, "FAILURES_OUTPUT_PATH") or ""
    log = settings.get("LOG_FILE") or ""
    return ReportPaths(releases, Path(failures) if failures else releases.with_name("failures.jsonl"),
                       Path(wiring.get(settings, "WARC_OUTPUT_DIR")), Path(log) if log else Path("/nonexistent"),
                       Path(wiring.get(settings, "REPORT_DIR") or releases.parent))


class RunReportExtension:
    """See the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.paths = report_paths(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not wiring.getbool(crawler.settings, "REPORT_ENABLED"):
            raise NotConfigured("the run report is off (REPORT_ENABLED)")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    def spider_opened(self) -> None:
        self.stats.set_value("run/id", wiring.run_id(self.crawler))
        self.stats.set_value("run/portal", wiring.portal_id(self.crawler))
        self.stats.set_value("run/start_urls", " ".join(getattr(self.crawler.spider, "start_urls", None) or []))

    def spider_closed(self, reason: str) -> None:
        recurring = get_recurring(self.crawler)
        if recurring is not None:
            recurring.prepare_finish(reason)
        if self.decide() == "not_run":
            return  # another run holds the portal (and its output directory): write nothing there
        started = time.monotonic()
        try:
            report = build_report(self.paths, self.stats.get_stats(), verdict=decide(self.stats.get_stats()))
            write_report(self.paths.report_dir, report, plots=wiring.getbool(self.crawler.settings, "REPORT_PLOTS"))
        except OSError as exc:  # a full disk
            wiring.output_failed(self.crawler, "report", exc, "report_write_failed")
            self.decide()
        else:
            self.stats.set_value("report/seconds", round(time.monotonic() - started, 3))

    def decide(self) -> str:
        """Decide the verdict from the stats as they are now; put it into them; return the outcome."""
        verdict = decide(self.stats.get_stats())
        self.stats.set_value("run/outcome", verdict.outcome)
        self.stats.set_value("run/exit_status", int(verdict.exit_status))
        self.stats.set_value("run/reason", verdict.reason)
        self.stats.set_value("run/details", list(verdict.details))
        log = logger.info if verdict.outcome == "complete" else logger.warning
        log("Verdict: %s", verdict.headline)
        return verdict.outcome
