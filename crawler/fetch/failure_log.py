"""Failure rows: one JSON line in ``failures.jsonl`` for every request the crawl gave up on.

A row is ``{"status": "failed", "reason", "url", "method", "http_status", "detail", "redirect_urls", "via",
"release", "run_id", "portal", "warc", "at"}``. ``reason`` is machine-readable
(``crawler.fetch.failure_reasons.REASONS``); ``via`` is the page that led to the URL (the list that named a release,
else the Referer); ``release`` says whether the URL was a release page; ``warc`` points at the response record when
the failure was a response that was archived (an HTTP error, a truncated body, a redirect loop's last 3xx), else
null. The release JSONL stays release-only; failures live in their own file, written with the same strict writer,
after the WARC record they point to is fsynced.

The file holds failures only. A skip by policy (robots.txt, an off-site link: ``SKIP_REASONS``) is no row: it is
counted (``skips/<reason>`` for release URLs, ``offsite/host/<host>`` per host, ``robots/disallowed``), and for a
release request the ``release_skipped`` signal tells the accounting (:func:`record_skip`).

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
from urllib.parse import urlsplit

from scrapy import signals

from archives.components.capture import get_capture
from archives.jsonl import JsonlWriter
from crawler import meta, wiring
from crawler.fetch.failure_reasons import SKIP_REASONS, classify, shown_name
from crawler.meta import capture_pointer, pointer_in
from crawler.signals import failure_recorded, release_skipped
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
        """Count the failure in stats (``failures/<reason>``, ``failures/kind/<kind>``) and append its row."""
        count_failure(self.crawler, request, reason)
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
            "via": meta.via_of(request),
            "release": bool(request.meta.get(meta.RELEASE)),
            "run_id": wiring.run_id(self.crawler),
            "portal": wiring.portal_id(self.crawler),
            "warc": pointer.location() if pointer else None,
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        logger.warning("Request failed (%s): %s %s", reason, request.url, detail[:200])
        self.crawler.signals.send_catch_log(failure_recorded, request=request, reason=reason, row=row)
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
        except OSError as exc:  # a full disk: the run is failed
            stats = self.crawler.stats
            assert stats is not None
            stats.inc_value("failures/not_written", len(rows))
            wiring.output_failed(self.crawler, "failures.jsonl", exc, "failures_write_failed")


#: Request meta: what a middleware that let a 4xx/5xx answer through as final says about it (the row's detail).
FAILURE_DETAIL_META = "failure_detail"

#: Answers by which a portal says a linked page does not exist (a dead link, not a list that could not be reached).
DEAD_LINK_REASONS = ("http_404", "http_410")


def request_kind(request: Request) -> str:
    """What a request was for: ``release``, ``asset`` (attachment, requisite), ``robots_txt`` or ``page`` (the
    home, column and list pages the lists are made of)."""
    if meta.is_release(request.meta):
        return "release"
    if request.meta.get(meta.ASSET):
        return "asset"
    if request.url.split("?", 1)[0].endswith("/robots.txt"):
        return "robots_txt"
    return "page"


def count_failure(crawler: Crawler, request: Request, reason: str) -> None:
    """The stats of one failure: ``failures/<reason>``, ``failures/kind/<kind>``, the start URL's and the list's."""
    stats = crawler.stats
    assert stats is not None
    stats.inc_value("failures/count")
    stats.inc_value(f"failures/{reason}")
    kind = request_kind(request)
    if kind == "page" and reason in DEAD_LINK_REASONS and "depth" in request.meta:
        kind = "dead_link"  # the portal links a page it says does not exist: noted, no list is lost
    stats.inc_value(f"failures/kind/{kind}")
    if kind == "page":
        if "depth" not in request.meta:  # a start request (DepthMiddleware sets depth on every later one)
            stats.inc_value("start/failed")
            stats.set_value("start/failed_reason", reason)
            stats.set_value("start/failed_url", meta.ledger_key(request))
        column = request.meta.get(meta.COLUMN_ID)
        if column:
            stats.inc_value(f"lists/failed/{column}")


def record_failure(crawler: Crawler, request: Request, reason: str, detail: str = "",
                   response: Response | None = None) -> None:
    """Record a failure through the crawler's `FailureLog`, or only count it when the log is off.

    A skip by policy (``SKIP_REASONS``: robots.txt, an off-site link) is no failure: it goes to `record_skip`.
    """
    if reason in SKIP_REASONS:
        record_skip(crawler, request, reason)
        return
    log = wiring.extension(crawler, FailureLog)
    if log is not None:
        log.record(request, reason, detail, response)
    elif crawler.stats is not None:
        count_failure(crawler, request, reason)
        crawler.signals.send_catch_log(failure_recorded, request=request, reason=reason, row=None)


def record_skip(crawler: Crawler, request: Request, reason: str) -> None:
    """Count a request not fetched by policy; for a release request, tell the accounting (``release_skipped``).

    Off-site requests are counted per host (``offsite/host/<host>``), robots.txt refusals in ``robots/disallowed``;
    release requests also in ``skips/<reason>``.
    """
    stats = crawler.stats
    assert stats is not None
    if reason == "offsite":
        stats.inc_value(f"offsite/host/{urlsplit(request.url).hostname or '?'}")
        stats.inc_value("offsite/links")
    elif reason == "robots":
        stats.inc_value("robots/disallowed")
    logger.debug("Skipped (%s): %s", reason, request.url)
    if request.meta.get(meta.RELEASE):
        stats.inc_value(f"skips/{reason}")
        crawler.signals.send_catch_log(release_skipped, request=request, reason=reason)


class FailureLogMiddleware(CrawlerComponent):
    """Downloader middleware closest to the engine: records the final exceptions and 4xx/5xx responses."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.min_status = wiring.getint(crawler.settings, "FAILURES_LOG_HTTP_STATUS")

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status >= self.min_status:
            if response.status < 500 and request_kind(request) == "robots_txt":
                return response  # a 4xx robots.txt means "allow all" (RFC 9309): no failure
            detail = str(request.meta.get(FAILURE_DETAIL_META, ""))
            record_failure(self.crawler, request, f"http_{response.status}", detail, response)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        detail = f"{shown_name(exception)}: {exception}"
        record_failure(self.crawler, request, classify(exception), detail)
