"""Failure rows: one JSON line in ``failures.jsonl`` for every request the crawl gave up on.

A row is ``{"status": "failed", "reason", "url", "method", "http_status", "detail", "redirect_urls", "warc",
"at"}``. ``reason`` is machine-readable (``crawler.fetch.failure_reasons.REASONS``); ``warc`` points at the
response record when the failure was a response that was archived (an HTTP error, a truncated body, a redirect
loop's last 3xx), else null. The release JSONL stays release-only (schema v1); failures live in their own file,
written with the same strict writer, after the WARC record they point to is fsynced.

``FailureLogMiddleware`` sits closest to the engine (after retries and redirects have had their say), so it
sees final outcomes only: exceptions nobody retried and final 4xx/5xx responses. Components that drop a request
inside ``process_response`` (redirect loops, truncated bodies) call :func:`record_failure` themselves. The reason
of an exception is its type's (``crawler.fetch.failure_reasons``).

Settings: ``FAILURES_OUTPUT_PATH`` (the file; empty turns the log off), ``FAILURES_LOG_HTTP_STATUS``
(lowest status written as a failure, default 400).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals

from archives.components.capture import get_capture
from archives.jsonl import JsonlWriter
from crawler import wiring
from crawler.fetch.failure_reasons import classify, shown_name
from crawler.meta import capture_pointer, pointer_in
from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


class FailureLog:
    """Extension that owns ``failures.jsonl``; reach it with :func:`record_failure`.

    Rows are appended in batches (``BATCH`` rows or ``FLUSH_INTERVAL`` seconds, and at close), one fsync each.
    """

    BATCH = 200
    FLUSH_INTERVAL = 1.0

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = path
        self.writer: JsonlWriter | None = None
        self.pending: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler, wiring.get(crawler.settings, "FAILURES_OUTPUT_PATH") or "")
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        if self.path:
            self.writer = JsonlWriter(self.path)

    def spider_closed(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def record(self, request: Request, reason: str, detail: str = "", response: Response | None = None) -> None:
        """Count the failure in stats (``failures/<reason>``) and append its row."""
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value("failures/count")
        stats.inc_value(f"failures/{reason}")
        pointer = None
        if response is not None:  # in a downloader middleware response.request is not set yet: use the request
            pointer = pointer_in(request.meta, response.url) or capture_pointer(response)
        row = {
            "status": "failed",
            "reason": reason,
            "url": response.url if pointer is not None and response is not None else request.url,
            "method": request.method,
            "http_status": response.status if response is not None else None,
            "detail": detail[:500],
            "redirect_urls": request.meta.get("redirect_urls") or None,
            "warc": pointer.location() if pointer else None,
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        logger.warning("Request failed (%s): %s %s", reason, request.url, detail[:200])
        if self.writer is None:
            return
        self.pending.append(row)
        if len(self.pending) >= self.BATCH or time.monotonic() - self._last_flush >= self.FLUSH_INTERVAL:
            self.flush()

    def flush(self) -> None:
        """fsync the WARC (rows may point into it), then append and fsync the pending rows."""
        self._last_flush = time.monotonic()
        rows, self.pending = self.pending, []
        if not rows or self.writer is None:
            return
        capture = get_capture(self.crawler)
        if any(row["warc"] for row in rows) and (capture is None or not capture.sync()):
            for row in rows:
                row["warc"] = None  # never point at a record that is not durable
        try:
            self.writer.write_rows(rows)
        except OSError as exc:
            logger.error("Could not write %d failure rows: %s", len(rows), exc)


def record_failure(crawler: Crawler, request: Request, reason: str, detail: str = "",
                   response: Response | None = None) -> None:
    """Record a failure through the crawler's `FailureLog`, or only count it when the log is off."""
    log = wiring.extension(crawler, FailureLog)
    if log is not None:
        log.record(request, reason, detail, response)
    elif crawler.stats is not None:
        crawler.stats.inc_value(f"failures/{reason}")


class FailureLogMiddleware(CrawlerComponent):
    """Downloader middleware closest to the engine: records the final exceptions and 4xx/5xx responses."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.min_status = wiring.getint(crawler.settings, "FAILURES_LOG_HTTP_STATUS")

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status >= self.min_status:
            record_failure(self.crawler, request, f"http_{response.status}", "", response)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        detail = f"{shown_name(exception)}: {exception}"
        record_failure(self.crawler, request, classify(exception), detail)
