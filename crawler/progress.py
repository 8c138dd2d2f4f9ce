"""A live progress line on a terminal (pages, releases, rate, errors) and the end-of-crawl summary."""

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


def summary_lines(stats: Mapping[str, Any], elapsed: float) -> list[str]:
    """Human summary of a finished crawl, from Scrapy's stats."""
    releases = int(stats.get("item_scraped_count", 0) or 0)
    pages = int(stats.get("response_received_count", 0) or 0)
    dropped = int(stats.get("item_dropped_count", 0) or 0)
    errors = int(stats.get("log_count/ERROR", 0) or 0)
    rate = releases / elapsed if elapsed > 0 else 0.0
    return [
        f"finished: {stats.get('finish_reason', 'unknown')} in {elapsed:.1f} s",
        f"pages fetched: {pages}   releases archived: {releases} ({rate:.1f}/s)   dropped: {dropped}"
        f"   errors: {errors}",
        f"WARC records written: {stats.get('warc/records', 0)} in {stats.get('warc/files', 0)} file(s)",
    ]


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
        stats = self.crawler.stats.get_stats()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        releases = int(stats.get("item_scraped_count", 0))
        line = (f"pages {stats.get('response_received_count', 0)}  releases {releases}"
                f"  {releases / elapsed:.1f}/s  errors {stats.get('log_count/ERROR', 0)}")
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()

    def spider_closed(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self.stream.write("\r\x1b[K")
        self.stream.flush()
