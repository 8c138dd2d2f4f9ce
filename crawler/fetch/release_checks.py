"""A release URL that answers without a release: each such answer becomes a failure row with its reason (or, on a
later run of a known release, a removal), never a release row and never silence.

Two downloader middlewares, for release requests (``meta["release"]``) and the recurring re-requests of known
releases, at the two places the answers can be seen:

- `ReleaseRedirectCheckMiddleware` (610, before ``RedirectMiddleware`` at 600 turns a 3xx into a new request):
  a redirect to a non-http(s) scheme (``mailto:``, ``javascript:``) is ``redirect_scheme``; a redirect to the
  home page, a start URL or a column page is ``soft_404`` (the CMS's way of saying "gone").
- `ReleaseAnswerCheckMiddleware` (585, after decompression at 590, before ``MetaRefreshMiddleware`` at 580):
  ``204`` is ``no_content``; a ``304`` to a request that asked no condition is ``unsolicited_304``; a 200 whose
  ``<meta http-equiv=refresh>`` leads to a non-http(s) URL is ``redirect_scheme``, to the home page or a column
  ``soft_404``; a 200 that is the CMS's not-found page (`crawler.fetch.soft404`) is ``soft_404``.

Before a failure row is written the ``release_gone`` signal is sent: the recurring controller answers True when the
URL is a release it knows (a later run), and records a removal instead; the accounting then counts a ``removed``
skip. Either way the request goes no further (IgnoreRequest): the answer is archived, nothing is extracted from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import IgnoreRequest
from w3lib.html import get_meta_refresh

from crawler import meta
from crawler.fetch.failure_log import record_failure, record_skip
from crawler.fetch.failure_reasons import NoContent, RedirectScheme, Soft404, UnsolicitedNotModified
from crawler.fetch.soft404 import ascii_lowered, is_index_url, soft_404_reason
from crawler.signals import release_gone
from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy.http import Request, Response

_REDIRECT_CODES = {301, 302, 303, 307, 308}
_WEB_SCHEMES = {"http", "https"}
_CONDITIONS = (b"If-None-Match", b"If-Modified-Since")


class _ReleaseCheck(CrawlerComponent):
    """What both checks share: which requests they look at, and how a bad answer ends."""

    def start_urls(self) -> list[str]:
        return list(getattr(self.crawler.spider, "start_urls", None) or [])

    def redirect_problem(self, request: Request, target: str, how: str) -> tuple[str, str] | None:
        """``(reason, detail)`` when a redirect of a release to *target* means there is no release there."""
        if urlsplit(target).scheme.lower() not in _WEB_SCHEMES:
            return RedirectScheme.reason, f"{how} to {target[:200]}"
        if target != request.url and is_index_url(target, self.start_urls()):
            return Soft404.reason, f"{how} to the home page or a column: {target[:200]}"
        return None

    def gone(self, request: Request, response: Response, reason: str, detail: str) -> IgnoreRequest:
        """Record the answer (a removal of a known release, else a failure row); the exception that ends it."""
        results = self.crawler.signals.send_catch_log(release_gone, request=request, response=response,
                                                      reason=reason, detail=detail)
        if any(result is True for _receiver, result in results):
            record_skip(self.crawler, request, "removed")
            return IgnoreRequest(f"release removed ({reason}): {request.url}")
        record_failure(self.crawler, request, reason, detail, response)
        return IgnoreRequest(f"no release at {request.url} ({reason}: {detail})")


class ReleaseRedirectCheckMiddleware(_ReleaseCheck):
    """HTTP redirects of release URLs to other schemes, the home page or a column (see the module docstring)."""

    def process_response(self, request: Request, response: Response) -> Response:
        if not meta.is_release(request.meta) or response.status not in _REDIRECT_CODES:
            return response
        location = response.headers.get(b"Location")
        if not location:
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        problem = self.redirect_problem(request, target, f"HTTP {response.status} redirect")
        if problem is not None:
            raise self.gone(request, response, *problem)
        return response


class ReleaseAnswerCheckMiddleware(_ReleaseCheck):
    """204, unsolicited 304, meta refreshes and the CMS's not-found page (see the module docstring)."""

    def process_response(self, request: Request, response: Response) -> Response:
        if not meta.is_release(request.meta):
            return response
        problem = self.problem(request, response)
        if problem is not None:
            raise self.gone(request, response, *problem)
        return response

    def problem(self, request: Request, response: Response) -> tuple[str, str] | None:
        if response.status == 204:
            return NoContent.reason, "204 No Content"
        if response.status == 304 and not any(request.headers.get(name) for name in _CONDITIONS):
            return UnsolicitedNotModified.reason, "304 Not Modified to a request without a condition"
        if response.status != 200:
            return None
        text = _text(response)
        if text is None:
            return None
        ascii_lower = ascii_lowered(text)
        target = meta_refresh_target(text, response.url, ascii_lower)
        if target is not None:
            return self.redirect_problem(request, target, "meta refresh")
        reason = soft_404_reason(text, ascii_lower)
        return (Soft404.reason, reason) if reason is not None else None


#: How much of a page is read for a ``<meta http-equiv=refresh>``.
META_REFRESH_SCAN = 20_000


def meta_refresh_target(text: str, url: str, ascii_lower: bytes) -> str | None:
    """Where the page's ``<meta http-equiv=refresh>`` leads (w3lib's ``get_meta_refresh`` of its first
    `META_REFRESH_SCAN` characters), or None.

    w3lib takes a meta whose attributes hold ``refresh`` in any case; no other letter lower-cases to one of its
    letters, so a page whose ASCII characters (*ascii_lower*, `crawler.fetch.soft404.ascii_lowered`) do not hold it
    has none, and most release pages are not scanned (50 us a page here).
    """
    if b"refresh" not in ascii_lower:
        return None
    return get_meta_refresh(text[:META_REFRESH_SCAN], url, ignore_tags=("script", "noscript"))[1]


def _text(response: Any) -> str | None:
    """The decoded body of an HTML response, or None for other types."""
    try:
        text = response.text
    except AttributeError:  # not a TextResponse: an image, a PDF
        return None
    return str(text)
