"""Failure rows: one JSON line in ``failures.jsonl`` for every request the crawl gave up on.

A row is ``{"status": "failed", "reason", "url", "method", "http_status", "detail", "redirect_urls", "warc",
"at"}``. ``reason`` is machine-readable (``REASONS``); ``warc`` points at the response record when the failure
was a response that was archived (an HTTP error, a truncated body, a redirect loop's last 3xx), else null. The
release JSONL stays release-only (schema v1); failures live in their own file, written with the same strict
writer, after the WARC record they point to is fsynced.

``FailureLogMiddleware`` sits closest to the engine (after retries and redirects have had their say), so it
sees final outcomes only: exceptions nobody retried and final 4xx/5xx responses. Components that drop a request
inside ``process_response`` (redirect loops, truncated bodies) call :func:`record_failure` themselves.
Exceptions may carry a ``failure_reason`` attribute to name their reason.

Settings: ``FAILURES_OUTPUT_PATH`` (the file; empty turns the log off), ``FAILURES_LOG_HTTP_STATUS``
(lowest status written as a failure, default 400).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)

from archives.components.capture import META_KEY, get_capture, warc_pointer_for
from archives.jsonl import JsonlWriter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

REASONS = (
    "connect_refused", "no_response", "dns", "timeout", "dataloss", "maxsize", "tls", "redirect_loop",
    "redirect_scheme", "offsite", "offsite_redirect", "robots", "robots_unavailable", "ip_refused", "hit_counter",
    "host_page_cap", "ignored", "error",  # and "http_<status>" for final 4xx/5xx responses
)


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def classify(exc: BaseException, request: Request | None = None) -> str:
    """The failure reason for an exception that ended a request."""
    named = getattr(exc, "failure_reason", None)
    if isinstance(named, str):
        return named
    names = " ".join(type(e).__name__ for e in _causes(exc))
    text = str(exc).lower()
    if isinstance(exc, IgnoreRequest):
        if "robots.txt" in text:
            return "robots"
        if "hit counter" in text:
            return "hit_counter"
        if "offsite" in text:
            redirected = request is not None and request.meta.get("redirect_urls")
            return "offsite_redirect" if redirected else "offsite"
        return "ignored"
    if isinstance(exc, DownloadConnectionRefusedError) or "ConnectionRefused" in names:
        return "connect_refused"
    if isinstance(exc, CannotResolveHostError) or "DNSLookupError" in names:
        return "dns"
    if isinstance(exc, DownloadTimeoutError) or "TimeoutError" in names:
        return "timeout"
    if isinstance(exc, DownloadCancelledError) or "CancelledError" in names:
        return "maxsize"
    if isinstance(exc, ResponseDataLossError) or "_DataLoss" in names:
        return "dataloss"
    if "SSL" in names or "TLS" in names or "certificate" in text:
        return "tls"
    if isinstance(exc, DownloadFailedError) or "ResponseNeverReceived" in names or "ResponseFailed" in names:
        return "no_response" if "NeverReceived" in names or "never" in text else "dataloss"
    return "error"


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
        ext = cls(crawler, crawler.settings.get("FAILURES_OUTPUT_PATH") or "")
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.failure_log = ext  # type: ignore[attr-defined]
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
            pointer = request.meta.get(META_KEY)
            if not (isinstance(pointer, dict) and pointer.get("url") == response.url):
                pointer = warc_pointer_for(response)
        row = {
            "status": "failed",
            "reason": reason,
            "url": response.url if pointer is not None and response is not None else request.url,
            "method": request.method,
            "http_status": response.status if response is not None else None,
            "detail": detail[:500],
            "redirect_urls": request.meta.get("redirect_urls") or None,
            "warc": {k: pointer[k] for k in ("filename", "offset", "length", "record_id")} if pointer else None,
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
    log: FailureLog | None = getattr(crawler, "failure_log", None)
    if log is not None:
        log.record(request, reason, detail, response)
    elif crawler.stats is not None:
        crawler.stats.inc_value(f"failures/{reason}")


class FailureLogMiddleware:
    """Downloader middleware closest to the engine: records the final exceptions and 4xx/5xx responses."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.min_status = crawler.settings.getint("FAILURES_LOG_HTTP_STATUS", 400)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status >= self.min_status:
            record_failure(self.crawler, request, f"http_{response.status}", "", response)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        detail = f"{type(exception).__name__}: {exception}"
        record_failure(self.crawler, request, classify(exception, request), detail)
