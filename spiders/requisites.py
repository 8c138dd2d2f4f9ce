"""Page requisites of a release page: the stylesheets, scripts and images it loads, archived so it replays as it looked.

Taken from the page: ``<link rel="stylesheet" href>``, ``<script src>`` and ``<img src>`` (body images included).
Never: hit counters (``crawler.fetch.counter_guard.is_counter_url``: they count every request), iframes (another page,
not a requisite), ``data:``/``javascript:`` URLs, or hosts outside the portal and ``PORTAL_ASSET_HOSTS``.
Site-wide requisites are requested once per crawl: a URL already requested is not requested again (a bounded set,
with Scrapy's dupefilter behind it). Their responses are archived and never parsed (nothing is followed from them,
CSS ``url()`` references included), and no release row waits for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from lxml import html as lxml_html

from crawler.fetch.asset_scope import ASSET_META, AssetScope
from crawler.fetch.counter_guard import is_counter_url
from pipelines.html_parser import HTML_PARSER

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: Below release pages (10), above list pages (0): no row waits for a requisite.
REQUISITE_PRIORITY = 5
#: URLs remembered as already requested; past this the set starts over and the dupefilter alone prevents refetches.
SEEN_LIMIT = 500_000


def requisite_urls(html: str, page_url: str) -> list[str]:
    """Absolute http(s) URLs of the stylesheets, scripts and images *html* loads, in page order, without repeats."""
    try:
        root = lxml_html.document_fromstring(html, parser=HTML_PARSER)
    except (etree.ParserError, ValueError):
        return []
    return requisite_urls_in(root, page_url)


def requisite_urls_in(root: Any, page_url: str) -> list[str]:
    """`requisite_urls` of an already parsed page (an lxml HTML tree; it is not modified)."""
    base = page_url
    base_el = root.find(".//base")
    if base_el is not None and (base_el.get("href") or "").strip():
        base = urljoin(page_url, base_el.get("href").strip())
    found: list[str] = []
    for element in root.iter("link", "script", "img"):
        if element.tag == "link":
            rel = (element.get("rel") or "").lower().split()
            ref = element.get("href") if "stylesheet" in rel else None
        else:
            ref = element.get("src")
        ref = (ref or "").strip()
        if not ref or ref.lower().startswith(("data:", "javascript:", "about:", "#")):
            continue
        url = urljoin(base, ref).split("#", 1)[0]
        if urlsplit(url).scheme in ("http", "https") and not is_counter_url(url) and url not in found:
            found.append(url)
    return found


class RequisiteFinder:
    """Turns a release page into requests for the requisites not yet requested in this crawl."""

    def __init__(self, crawler: Crawler, enabled: bool, max_size: int, scope: AssetScope,
                 callback: Callable[..., Any], errback: Callable[..., Any]) -> None:
        if max_size <= 0:
            raise ValueError(f"REQUISITES_MAX_SIZE must be a positive number of bytes, got {max_size}")
        self.crawler = crawler
        self.enabled = enabled
        self.max_size = max_size
        self.scope = scope
        self.callback = callback
        self.errback = errback
        self.seen: set[str] = set()

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def requests(self, response: Response, root: Any = None) -> Iterator[scrapy.Request]:
        """Requests for the requisites of *response* (a release page) that this crawl has not requested yet.

        *root* is the page's tree when the caller has parsed it already (the release parser has): it is read
        instead of parsing ``response.text`` a second time.
        """
        if not self.enabled or not hasattr(response, "text"):
            return
        urls = requisite_urls_in(root, response.url) if root is not None else requisite_urls(response.text,
                                                                                              response.url)
        for url in urls:
            if url in self.seen:
                continue
            if len(self.seen) >= SEEN_LIMIT:
                self.seen.clear()
            self.seen.add(url)
            if not self.scope.allows(url):
                self._inc("requisites/out_of_scope")
                continue
            self._inc("requisites/requested")
            yield scrapy.Request(url, callback=self.callback, errback=self.errback, priority=REQUISITE_PRIORITY,
                                 meta={ASSET_META: "requisite", "allow_offsite": True,
                                       "download_maxsize": self.max_size})

    def downloaded(self, response: Response) -> None:
        """Archived already (capture extension); counted, and nothing is taken from it."""
        self._inc("requisites/archived")

    def failed(self, failure: Failure) -> None:
        """Counted and logged; a missing requisite never holds back a release."""
        self._inc("requisites/failed")
        logger.debug("Requisite not archived: %s (%s)", failure.request.url,  # type: ignore[attr-defined]
                     failure.getErrorMessage())
