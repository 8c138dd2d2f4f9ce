"""Page requisites of a release page: the stylesheets, scripts and images it loads, archived so it replays as it looked.

Taken from the page: ``<link rel="stylesheet" href>``, ``<script src>`` and ``<img src>`` (body images included).
Never: hit counters (``crawler.fetch.counter_guard.is_counter_url``: they count every request), iframes (another page,
not a requisite), ``data:``/``javascript:`` URLs, or hosts outside the portal and ``PORTAL_ASSET_HOSTS``.
Site-wide requisites are requested once per crawl: a URL already requested is not requested again (a bounded set,
with Scrapy's dupefilter behind it). Their responses are archived and never parsed (nothing is followed from them,
CSS ``url()`` references included), and no release row waits for them.

Bounds, each counted: a link no URL can be made of (``http://[bad/img/1.jpg``) is skipped (``links/malformed``,
``requisites/malformed``) and costs nothing else of the page; at most ``REQUISITES_MAX_PER_PAGE`` requests per page
(``requisites/over_page_limit``); none past ``DEPTH_LIMIT`` (the release page's depth + 1; ``requisites/depth_limit``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import scrapy
from selectolax.lexbor import LexborHTMLParser
from w3lib.html import strip_html5_whitespace

from crawler import wiring
from crawler.fetch.asset_scope import ASSET_META, AssetScope
from crawler.fetch.counter_guard import is_counter_url
from spiders.links import MALFORMED_STAT, absolute_url, base_url, is_fetchable_href
from spiders.release_page import parse_html
from spiders.requisite_scan import requisite_candidates

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: Below release pages (10), above list pages (0): no row waits for a requisite.
REQUISITE_PRIORITY = 5
#: URLs remembered as already requested; past this the set starts over and the dupefilter alone prevents refetches.
SEEN_LIMIT = 500_000
#: Path-absolute requisite links remembered with their URL (`_resolve`); past this the memory starts over.
RESOLVED_LIMIT = 10_000
_RESOLVED: dict[tuple[str, str], str | None] = {}


def requisite_urls(html: str, page_url: str) -> list[str]:
    """Absolute http(s) URLs of the stylesheets, scripts and images *html* loads, in page order, without repeats."""
    return requisite_links(html, page_url)[0]


def requisite_links(html: str, page_url: str) -> tuple[list[str], int]:
    """(`requisite_urls`, how many of the page's requisite links no URL can be made of: ``http://[bad/1.jpg``).

    The page is parsed by lexbor (selectolax), an HTML5 parser, as a browser parses it: the crawl reads every
    release page's requisites, and lexbor builds the tree in about a third of lxml's time (the fields come from
    lxml's parse of the article region alone, ``spiders.release_page``). As in a browser, ``<template>`` content
    loads nothing. The first ``<base>`` sets what links resolve against when its ``href`` makes a URL. A page of
    more than `LEXBOR_MAX_TAGS` tags is parsed by lxml instead (see there).
    """
    base_href, elements = (_lxml_elements if html.count("<") > LEXBOR_MAX_TAGS else _lexbor_elements)(html)
    base = base_url(page_url, base_href)
    origin = _origin(base)
    found: dict[str, None] = {}
    malformed = 0
    for tag, attributes in elements:
        if tag == "link":
            rel = (attributes.get("rel") or "").lower().split()
            ref = attributes.get("href") if "stylesheet" in rel else None
        else:
            ref = attributes.get("src")
        if not is_fetchable_href(ref):
            continue
        url = _resolve(base, origin, ref or "")
        if url is None:
            malformed += 1
        elif not is_counter_url(url):
            found.setdefault(url, None)
    return list(found), malformed


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of *url*, as `_resolve` keys its memory."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


#: Pages with more ``<`` than this are parsed by lxml, not lexbor. lexbor's tree building takes time in the square
#: of the nesting depth (20,000 nested ``<div>`` took 0.8 s, 200,000 took 171 s), which a hostile server could
#: send; libxml2 stops nesting at 256. A release page has about 450 tags; both parsers find the same links on every
#: page of the simulator and the fixtures (tests/test_requisites.py).
LEXBOR_MAX_TAGS = 10_000


class _Attributes(Protocol):
    def get(self, name: str) -> str | None: ...


_Elements = tuple[str | None, list[tuple[str, _Attributes]]]


def _lexbor_elements(html: str) -> _Elements:
    """The first ``<base>``'s href and the (tag, attributes) of every link, script and img, in page order."""
    tree = LexborHTMLParser(html)
    first_base = tree.css_first("base")
    href = first_base.attributes.get("href") if first_base is not None else None
    return href, [(node.tag or "", node.attributes) for node in tree.css("link, script, img")]


def _lxml_elements(html: str) -> _Elements:
    """`_lexbor_elements` read from lxml's tree (nothing when the page does not parse)."""
    root = parse_html(html)
    if root is None:
        return None, []
    first_base = root.find(".//base")
    href = first_base.get("href") if first_base is not None else None
    return href, [(element.tag, element) for element in root.iter("link", "script", "img")]


def _resolve(base: str, origin: str, ref: str) -> str | None:
    """`absolute_url` of *ref* on a page whose links resolve against *base* (``scheme://host`` *origin*).

    A path-absolute link (``/images/1/logo.png``) resolves the same against every base of the same scheme and host,
    and the pages of a portal share most of their stylesheets, scripts and images: those are resolved once.
    """
    link = strip_html5_whitespace(ref)
    if not link.startswith("/") or link.startswith("//"):
        return absolute_url(base, ref)
    key = (origin, link)
    if key in _RESOLVED:
        return _RESOLVED[key]
    if len(_RESOLVED) >= RESOLVED_LIMIT:
        _RESOLVED.clear()
    url = _RESOLVED[key] = absolute_url(base, ref)
    return url


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
        self.max_per_page = wiring.getint(crawler.settings, "REQUISITES_MAX_PER_PAGE")
        self.depth_limit = crawler.settings.getint("DEPTH_LIMIT")  # Scrapy's setting: its default is always there
        if self.max_per_page < 0:
            raise ValueError(f"REQUISITES_MAX_PER_PAGE must be 0 or more, got {self.max_per_page}")

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    def requests(self, response: Response, text: str | None = None) -> Iterator[scrapy.Request]:
        """Requests for the requisites of *response* (a release page) that this crawl has not requested yet.

        *text* is the page as the release parser decoded it (its charset rules), else ``response.text``.
        """
        if not self.enabled:
            return
        if text is None:
            if not hasattr(response, "text"):
                return
            text = response.text
        depth = int(response.meta.get("depth", 0)) + 1
        if not (self.depth_limit and depth > self.depth_limit) and self._all_requested(text, response.url):
            self._inc("requisites/pages_not_parsed")
            return
        urls, malformed = requisite_links(text, response.url)
        if malformed:
            self._inc(MALFORMED_STAT, malformed)
            self._inc("requisites/malformed", malformed)
        if self.depth_limit and depth > self.depth_limit and urls:
            self._inc("requisites/depth_limit", len(urls))
            return
        requested = 0
        for url in urls:
            if url in self.seen:
                continue
            if requested >= self.max_per_page:
                self._inc("requisites/over_page_limit")
                continue
            if len(self.seen) >= SEEN_LIMIT:
                self.seen.clear()
            self.seen.add(url)
            if not self.scope.allows(url):
                self._inc("requisites/out_of_scope")
                continue
            requested += 1
            self._inc("requisites/requested")
            yield scrapy.Request(url, callback=self.callback, errback=self.errback, priority=REQUISITE_PRIORITY,
                                 meta={ASSET_META: "requisite", "allow_offsite": True, "depth": depth,
                                       "download_maxsize": self.max_size})

    def _all_requested(self, text: str, page_url: str) -> bool:
        """Would parsing *text* find no requisite to request and nothing to count? True when every link the page
        may load (`requisite_candidates`, a superset of `requisite_links`) makes a URL requested already, a hit
        counter, or no fetch; False when one is new or malformed, or the scan gave up."""
        candidates = requisite_candidates(text)
        if candidates is None:
            return False
        origin = _origin(page_url)
        for ref in candidates:
            if not is_fetchable_href(ref):
                continue
            url = _resolve(page_url, origin, ref)
            if url is None or (url not in self.seen and not is_counter_url(url)):
                return False
        return True

    def downloaded(self, response: Response) -> None:
        """Archived already (capture extension); counted, and nothing is taken from it."""
        self._inc("requisites/archived")

    def failed(self, failure: Failure) -> None:
        """Counted and logged; a missing requisite never holds back a release."""
        self._inc("requisites/failed")
        logger.debug("Requisite not archived: %s (%s)", failure.request.url,  # type: ignore[attr-defined]
                     failure.getErrorMessage())
