"""Scrapy's redirect middlewares, with the requests they give up on written as failure rows.

Scrapy raises ``IgnoreRequest("max redirections reached")`` from ``process_response``, which no other
middleware sees, and silently hands back a 3xx whose ``Location`` has a non-http(s) scheme. These subclasses
record both (``redirect_loop``, ``redirect_scheme``) and otherwise behave exactly like Scrapy's. Every 3xx on
the way is archived anyway: the capture extension writes it on ``response_downloaded``, before any middleware.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse

from crawler.fetch.failure_log import record_failure
from crawler.fetch.failure_reasons import RedirectLoop, RedirectScheme
from crawler.fetch.soft404 import ascii_lowered

if TYPE_CHECKING:
    from scrapy.http import Request, Response

_REDIRECT_CODES = {301, 302, 303, 307, 308}
#: What Scrapy's ``scrapy.utils.response.get_meta_refresh`` reads of a page (``response.text[0:4096]``).
SCRAPY_SCAN = 4096


class RecordingRedirectMiddleware(RedirectMiddleware):
    """`RedirectMiddleware` that records redirect loops and refused schemes."""

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        try:
            result = super().process_response(request, response)
        except IgnoreRequest as exc:
            record_failure(self.crawler, request, RedirectLoop.reason, str(exc), response)
            raise
        if result is response and response.status in _REDIRECT_CODES and b"Location" in response.headers:
            location = (response.headers.get(b"Location") or b"").decode("latin-1")
            if urlsplit(urljoin(request.url, location.strip())).scheme not in {"http", "https"}:
                record_failure(self.crawler, request, RedirectScheme.reason, f"Location: {location}", response)
        return result


class RecordingMetaRefreshMiddleware(MetaRefreshMiddleware):
    """`MetaRefreshMiddleware` that records meta-refresh loops.

    Scrapy's looks for the refresh in the first 4,096 characters of every HTML answer (w3lib's scan of the meta tags,
    about 30 us a page); an answer whose first 4,096 characters hold no ASCII ``refresh`` in any case has none
    (`crawler.fetch.release_checks.meta_refresh_target` says why) and goes on without the scan.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if isinstance(response, HtmlResponse) and b"refresh" not in ascii_lowered(response.text[:SCRAPY_SCAN]):
            return response
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            record_failure(self.crawler, request, RedirectLoop.reason, f"meta refresh: {exc}", response)
            raise
