"""Retries as an archive needs them: truncated bodies are retried, and ``Retry-After`` is honoured.

``ArchivalRetryMiddleware`` replaces Scrapy's ``RetryMiddleware`` at its place (550, same settings:
``RETRY_TIMES``, ``RETRY_HTTP_CODES``, ``RETRY_EXCEPTIONS``); ``DatalossRetryMiddleware`` sits before
``HttpCompressionMiddleware`` (590) so a truncated gzip body is seen as truncated, not as a decoding error.

- **dataloss**: with ``DOWNLOAD_FAIL_ON_DATALOSS = False`` Scrapy hands over a body cut short (reset mid-body,
  broken chunking) flagged ``dataloss``; the capture extension has archived it with ``WARC-Truncated:
  disconnect``. It is retried like a network error; when the retries run out a ``dataloss`` failure row points at
  the last truncated record and the request goes no further (no release row from a partial body).
- **Retry-After** on a retryable status (429, 503, ...): the retry of that one request is not sent before the
  stated delay (seconds or an HTTP date); the other requests, to that host too, go on at the crawl's pace (one
  page's answer is no reason to slow the crawl; the waiting retry holds one of ``CONCURRENT_REQUESTS``, no host
  slot). A delay above ``RETRY_AFTER_MAX`` (60 s) is not waited for: the response is final, a ``http_<status>``
  failure row whose detail names the delay, counted in ``retry/retry_after_too_long``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Self

from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from crawler import wiring
from crawler.fetch.failure_log import FAILURE_DETAIL_META, record_failure
from crawler.fetch.failure_reasons import DataLoss
from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

NOT_BEFORE_META = "retry_not_before"


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks for (delta-seconds or HTTP-date), or None when unparsable."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class ArchivalRetryMiddleware(RetryMiddleware):
    """`RetryMiddleware` that honours ``Retry-After``; see the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.retry_after_max = wiring.getfloat(crawler.settings, "RETRY_AFTER_MAX")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        """Hold a retry back until the time its ``Retry-After`` named."""
        wait = request.meta.get(NOT_BEFORE_META, 0.0) - time.monotonic()
        if wait > 0:
            await maybe_deferred_to_future(deferLater(reactor, wait, lambda: None))

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        stats = self.crawler.stats
        assert stats is not None
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        delay = retry_after_seconds(response.headers.get(b"Retry-After"))
        if delay is not None and delay > self.retry_after_max:
            stats.inc_value("retry/retry_after_too_long")
            request.meta[FAILURE_DETAIL_META] = (f"Retry-After {delay:.0f} s, over RETRY_AFTER_MAX "
                                                 f"{self.retry_after_max:.0f} s: not retried")
            return response
        retry = self._retry(request, f"{response.status} response")
        if retry is None:
            return response
        if delay:
            stats.inc_value("retry/retry_after_honoured")
            retry.meta[NOT_BEFORE_META] = time.monotonic() + delay
        return retry

    def _retry(self, request: Request, reason: str | Exception | type[Exception]) -> Request | None:
        assert self.crawler.spider is not None
        return get_retry_request(
            request, reason=reason, spider=self.crawler.spider,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level),
        )


class DatalossRetryMiddleware(CrawlerComponent):
    """Retry a response flagged ``dataloss``; after ``RETRY_TIMES`` retries, a failure row and no further."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.enabled = crawler.settings.getbool("RETRY_ENABLED")  # Scrapy's settings: its defaults are always there
        self.max_retry_times = crawler.settings.getint("RETRY_TIMES")

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if "dataloss" not in response.flags:
            return response
        stats = self.crawler.stats
        assert stats is not None and self.crawler.spider is not None
        stats.inc_value("retry/dataloss")
        if self.enabled and not request.meta.get("dont_retry", False):
            retry = get_retry_request(request, reason="dataloss", spider=self.crawler.spider,
                                      max_retry_times=request.meta.get("max_retry_times", self.max_retry_times))
            if retry is not None:
                return retry
        record_failure(self.crawler, request, DataLoss.reason, "body shorter than announced", response)
        raise IgnoreRequest(f"truncated body after retries: {response.url}")
