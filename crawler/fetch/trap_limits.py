"""Limits against crawler traps: a per-host request cap, and a dedupe key without session ids.

An infinite calendar (``?date=`` one day later on every page) or a path loop (``/a/b/a/b/...``) keeps producing
new URLs; Scrapy's ``DEPTH_LIMIT`` bounds how deep the link chain goes and ``HostPageCapMiddleware`` bounds how
many requests one host gets (``TRAP_MAX_PAGES_PER_HOST``; later ones end with a ``host_page_cap`` failure row).
Session ids in the path (``;jsessionid=...``) make a new URL of every page: ``SessionlessRequestFingerprinter``
drops them from the *dedupe key* only; the request, and the WARC-Target-URI, keep the URL as fetched.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.utils.request import RequestFingerprinter

from crawler import wiring
from crawler.fetch.failure_reasons import HostPageCapError
from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request

_SESSION_PARAM = re.compile(r";(?:jsessionid|phpsessid|sid|sessionid)=[^/?#;]*", re.IGNORECASE)


def strip_session_ids(url: str) -> str:
    """The URL without ``;jsessionid=…``-style path parameters."""
    return _SESSION_PARAM.sub("", url)


class HostPageCapMiddleware(CrawlerComponent):
    """Downloader middleware: refuse a host's requests past ``TRAP_MAX_PAGES_PER_HOST`` (retries are free)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.cap = wiring.getint(crawler.settings, "TRAP_MAX_PAGES_PER_HOST")
        self.counts: Counter[str] = Counter()

    def process_request(self, request: Request) -> None:
        if self.cap <= 0 or request.meta.get("retry_times"):
            return
        host = urlsplit(request.url).netloc.lower()
        if self.counts[host] >= self.cap:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("trap/host_page_cap")
            raise HostPageCapError(f"host {host} reached TRAP_MAX_PAGES_PER_HOST={self.cap}")
        self.counts[host] += 1


class SessionlessRequestFingerprinter(RequestFingerprinter):
    """Scrapy's request fingerprint, computed on the URL without session-id path parameters."""

    def fingerprint(self, request: Request) -> bytes:
        stripped = strip_session_ids(request.url)
        if stripped != request.url:
            request = request.replace(url=stripped)
        return super().fingerprint(request)
