"""A live progress line on a terminal: pages, releases archived / known so far, failures, rate, and an estimate of
what is left once the lists' totals are known."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler import wiring


def _n(stats: Mapping[str, Any], key: str) -> int:
    try:
        return int(stats.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def progress_line(stats: Mapping[str, Any], elapsed: float) -> str:
    """One line from the live stats (the ledger's counts, the failure log's, the lists' declared totals)."""
    archived = _n(stats, "ledger/rows_archived")
    known = _n(stats, "ledger/learnt")
    skipped = sum(_n(stats, key) for key in stats if key.startswith("skips/"))
    failed = _n(stats, "failures/kind/release")
    done = archived + skipped + failed
    rate = archived / elapsed if elapsed > 0 else 0.0
    declared = sum(_n(stats, key) for key in stats if key.startswith("lists/declared_total/"))
    line = (f"pages {_n(stats, 'response_received_count')}  releases {archived}/{known} known  "
            f"failures {_n(stats, 'failures/count')}  {rate:.1f}/s")
    if declared:
        left = max(declared, known) - done
        per_second = done / elapsed if elapsed > 0 else 0.0
        eta = f", about {_duration(left / per_second)}" if per_second > 0 and left > 0 else ""
        line += f"  left {max(left, 0)} of {max(declared, known)} declared{eta}"
    return line


class ProgressExtension:
    """Redraws one status line on stderr every ``PROGRESS_INTERVAL`` seconds while stderr is a terminal."""

    def __init__(self, crawler: Crawler, interval: float, stream: TextIO) -> None:
        self.crawler = crawler
        self.interval = interval
        self.stream = stream
        self.started = time.monotonic()
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        if not wiring.getbool(crawler.settings, "PROGRESS_ENABLED") or not sys.stderr.isatty():
            raise NotConfigured("progress line only on a terminal")
        ext = cls(crawler, wiring.getfloat(crawler.settings, "PROGRESS_INTERVAL"), sys.stderr)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self._loop = task.LoopingCall(self.draw)
        self._loop.start(self.interval, now=False)

    def draw(self) -> None:
        assert self.crawler.stats is not None
        line = progress_line(self.crawler.stats.get_stats(), max(time.monotonic() - self.started, 1e-9))
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()

    def spider_closed(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.stream.write("\r\x1b[K")
        self.stream.flush()
