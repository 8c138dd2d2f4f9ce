"""robots.txt as RFC 9309 §2.3.1 asks: 4xx means allow all, 5xx or unreachable means disallow all *for now*.

Scrapy's ``RobotsTxtMiddleware`` parses whatever body comes back (a 503 error page usually parses as "allow all")
and treats a failed fetch as "allow all", both cached for the whole crawl: the fail-open bug of RELIABILITY §4.10.
:class:`RobotsPolicyMiddleware` keeps Scrapy's fetching and parsing and changes only the decision:

* 2xx (after redirects): the file is parsed as usual;
* 4xx: allow all, whatever the error page says;
* 5xx, a network failure or a refused fetch: every request to that host is refused with ``robots_unavailable``
  (``IgnoreRequest``, counted as ``robotstxt/unavailable_refused``) and the decision is kept only
  ``ROBOTSTXT_UNAVAILABLE_TTL`` seconds: the first request after that fetches robots.txt again.

The robots.txt exchanges themselves are archived like any response (the capture extension sees them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler import wiring
from crawler.fetch.failure_reasons import RobotsDisallowed
from crawler.fetch.failure_reasons import RobotsUnavailable as RobotsUnavailableError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)


class RobotsUnavailable:
    """Stands in for a parser while a host's robots.txt is unavailable: nothing is allowed."""

    def __init__(self, status: str) -> None:
        self.status = status

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class RobotsPolicyMiddleware(RobotsTxtMiddleware):
    """Downloader middleware replacing Scrapy's robots.txt middleware; see the module docstring."""

    def __init__(self, crawler: Crawler, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(crawler)
        self.unavailable_ttl = wiring.getfloat(crawler.settings, "ROBOTSTXT_UNAVAILABLE_TTL")
        self._clock = clock
        #: netloc -> clock time after which robots.txt is fetched again
        self._retry_at: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        retry_at = self._retry_at.get(netloc)
        if retry_at is not None and self._clock() >= retry_at and not isinstance(self._parsers.get(netloc), Deferred):
            del self._retry_at[netloc]
            self._parsers.pop(netloc, None)  # not cached: fetch robots.txt again
        return await super().robot_parser(request)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, RobotsUnavailable):
            self._stats.inc_value("robotstxt/unavailable_refused")
            logger.info("robots.txt of %s unavailable (%s): not fetching %s", urlparse_cached(request).netloc,
                        rp.status, request.url)
            raise RobotsUnavailableError(f"robots_unavailable: robots.txt answered {rp.status}: {request.url}")
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:  # "Forbidden by robots.txt"
            raise RobotsDisallowed(str(exc)) from exc

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._set_unavailable(netloc, f"HTTP {response.status}")
            self._stats.inc_value("robotstxt/response_count")
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            return
        if 400 <= response.status < 500:
            response = response.replace(body=b"")  # RFC 9309: unavailable (4xx) means no restriction
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if not isinstance(exc, IgnoreRequest):
            self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._set_unavailable(netloc, type(exc).__name__)

    def _set_unavailable(self, netloc: str, status: str) -> None:
        logger.warning("robots.txt of %s unavailable (%s): disallowing the host for %.0f s", netloc, status,
                       self.unavailable_ttl)
        self._stats.inc_value("robotstxt/unavailable")
        parser: Any = RobotsUnavailable(status)
        pending = self._parsers.get(netloc)
        self._parsers[netloc] = parser
        self._retry_at[netloc] = self._clock() + self.unavailable_ttl
        if isinstance(pending, Deferred):
            pending.callback(parser)

