"""Link limits that never drop a release silently: depth, URL length, query-string variants of list pages.

Scrapy's ``DepthMiddleware`` and ``UrlLengthMiddleware`` drop a request past their limit with a debug line: a
release listed by a column at ``DEPTH_LIMIT``, or with a long URL, would vanish. These spider middlewares replace
them (same settings, same stats names) with the archive's rules:

- **Depth** (``DEPTH_LIMIT``) counts navigation hops: home -> column -> sub-column. Paging a list is no hop: a
  request for a page of the same column's list (``meta["column_id"]`` equal to the page's, a page parameter in its
  query: `PAGE_PARAMS`) keeps the page's depth, so a list walked a page at a time is not cut at the limit. A release
  request is a leaf and is never dropped (``depth/releases_past_limit`` counts those deeper than the limit).
  Attachments and page requisites get their depth from the spider (the release page's + 1), which skips them past
  the limit with a reason (``depth_limit``). Any other request past the limit is dropped and counted
  (``depth/request_ignored_count``).
- **URL length** (``URLLENGTH_LIMIT``): a release URL over the limit is a failure row ``url_too_long``; another
  request is dropped and counted (``urllength/request_ignored_count``). Attachments are checked by the spider
  first, which lists them with ``skip_reason`` ``url_too_long``.
- **Query variants** (``LINKS_MAX_QUERY_VARIANTS``): a list or column page linked with ever new query strings (a
  cache-buster ``?t=<n>`` that changes on every answer) gets at most that many distinct queries per path and
  column, the paging parameters (``PAGING_PARAMS``) aside; later ones are dropped and counted
  (``links/query_variants_dropped``). Release and asset requests are not limited here.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawler import meta, wiring
from crawler.fetch.failure_log import record_failure
from crawler.fetch.failure_reasons import UrlTooLong

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)

#: Query parameters that name a page of a list (Hanweb's dataproxy ``page``/``startrecord`` and column ``pageNum``).
PAGE_PARAMS = frozenset({"page", "pagenum", "pageno", "startrecord", "endrecord"})
#: Query parameters of list paging: a new value is a new page of the same list, not a variant of the page.
PAGING_PARAMS = PAGE_PARAMS | {"perpage", "uid", "unitid"}


def same_list(request: Request, response: Response | None) -> bool:
    """True for a request that pages the list of the page it came from: the same ``meta["column_id"]`` and a page
    parameter in its query (``?pageNum=2``, ``dataproxy.jsp?page=2``, ``?startrecord=46``); a calendar's ``?day=``
    or a cache-buster's ``?t=`` is no page of a list and goes one deeper."""
    if response is None or meta.is_release(request.meta) or request.meta.get(meta.ASSET):
        return False
    column = request.meta.get(meta.COLUMN_ID)
    if not column or column != response.meta.get(meta.COLUMN_ID) or meta.is_release(response.meta):
        return False
    return any(key.lower() in PAGE_PARAMS for key, _ in parse_qsl(urlsplit(request.url).query,
                                                                   keep_blank_values=True))


class ArchivalDepthMiddleware(BaseSpiderMiddleware):
    """Spider middleware in place of Scrapy's ``DepthMiddleware``: see the module docstring."""

    crawler: Crawler

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings  # Scrapy's own settings: their defaults are always there
        self.maxdepth = settings.getint("DEPTH_LIMIT")
        self.prio = settings.getint("DEPTH_PRIORITY")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivalDepthMiddleware:
        return cls(crawler)

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if response is None:
            return request  # a start request: no depth, as with Scrapy's (failure_log tells start requests by it)
        parent = response.meta.get("depth", 0)
        if "depth" in request.meta and request.meta.get(meta.ASSET):
            depth = int(request.meta["depth"])  # the spider's: the release page's + 1
        elif same_list(request, response):
            depth = parent
        else:
            depth = parent + 1
        request.meta["depth"] = depth
        if self.prio:
            request.priority -= depth * self.prio
        if self.maxdepth and depth > self.maxdepth:
            if meta.is_release(request.meta):
                self._inc("depth/releases_past_limit")  # archived all the same: a release is a leaf
            elif not request.meta.get(meta.ASSET):
                self._inc("depth/request_ignored_count")
                logger.debug("Not following (depth %d > DEPTH_LIMIT %d): %s", depth, self.maxdepth, request.url)
                return None
        assert self.crawler.stats is not None
        self.crawler.stats.max_value("request_depth_max", depth)
        return request


class ArchivalUrlLengthMiddleware(BaseSpiderMiddleware):
    """Spider middleware in place of Scrapy's ``UrlLengthMiddleware``: a release URL too long is a failure row."""

    crawler: Crawler

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.maxlength = crawler.settings.getint("URLLENGTH_LIMIT")
        #: release URLs refused already (one failure row each, however often they are listed)
        self.refused: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivalUrlLengthMiddleware:
        return cls(crawler)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if not self.maxlength or len(request.url) <= self.maxlength:
            return request
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("urllength/request_ignored_count")
        detail = f"URL of {len(request.url)} characters, over URLLENGTH_LIMIT {self.maxlength}"
        if meta.is_release(request.meta):
            if request.url not in self.refused:
                self.refused.add(request.url)
                record_failure(self.crawler, request, UrlTooLong.reason, detail)
        else:
            logger.info("Not following (%s): %s", detail, request.url[:200])
        return None


class QueryVariantMiddleware(BaseSpiderMiddleware):
    """Spider middleware: at most ``LINKS_MAX_QUERY_VARIANTS`` query strings per page path (see the module doc)."""

    crawler: Crawler

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.limit = wiring.getint(crawler.settings, "LINKS_MAX_QUERY_VARIANTS")
        self.variants: defaultdict[tuple[str, str], set[str]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> QueryVariantMiddleware:
        return cls(crawler)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if self.limit <= 0 or meta.is_release(request.meta) or request.meta.get(meta.ASSET):
            return request
        parts = urlsplit(request.url)
        if not parts.query:
            return request
        variant = "&".join(sorted(f"{k}={v}" for k, v in parse_qsl(parts.query, keep_blank_values=True)
                                  if k.lower() not in PAGING_PARAMS))
        if not variant:
            return request
        seen = self.variants[(f"{parts.netloc.lower()}{parts.path}", str(request.meta.get(meta.COLUMN_ID) or ""))]
        if variant in seen:
            return request
        if len(seen) >= self.limit:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("links/query_variants_dropped")
            logger.debug("Not following (query variant %d of %s): %s", len(seen) + 1, parts.path, request.url)
            return None
        seen.add(variant)
        return request

