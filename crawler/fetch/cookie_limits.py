"""The cookie jar bounded as browsers bound it, so a server that sets a new cookie on every answer cannot grow the
request heads past what servers accept (nginx answers 400 to a head over 8 KiB, and every later page is lost).

``BoundedCookiesMiddleware`` is Scrapy's ``CookiesMiddleware`` (same place, same ``COOKIES_ENABLED``/``cookiejar``
meta) with three bounds, each a setting and each counted when hit:

- ``COOKIES_MAX_SIZE``: a cookie whose name and value together are longer is refused (``cookies/too_large``);
- ``COOKIES_MAX_PER_HOST``: past this many cookies of one domain the least recently set is forgotten
  (``cookies/evicted``), as browsers do (RFC 6265 section 5.3);
- ``COOKIES_MAX_HEADER_BYTES``: a ``Cookie`` header longer than this keeps the cookies that fit, in the jar's order
  (most specific path first), and drops the rest from that request (``cookies/header_trimmed``).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.cookies import CookiesMiddleware
from scrapy.exceptions import NotConfigured

from crawler import wiring

if TYPE_CHECKING:
    from collections.abc import Iterable
    from http.cookiejar import Cookie

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.http.cookies import CookieJar

_Key = tuple[str, str, str]  # domain, path, name


class BoundedCookiesMiddleware(CookiesMiddleware):
    """Scrapy's cookie middleware with the jar and the header bounded; see the module docstring."""

    def __init__(self, debug: bool = False, max_per_host: int = 50, max_size: int = 4096,
                 max_header: int = 4096) -> None:
        super().__init__(debug)
        self.max_per_host = max_per_host
        self.max_size = max_size
        self.max_header = max_header
        #: (jar key, domain) -> cookies of that domain, least recently set first
        self.order: defaultdict[tuple[Any, str], OrderedDict[_Key, None]] = defaultdict(OrderedDict)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BoundedCookiesMiddleware:
        settings = crawler.settings
        if not settings.getbool("COOKIES_ENABLED"):
            raise NotConfigured
        middleware = cls(settings.getbool("COOKIES_DEBUG"), wiring.getint(settings, "COOKIES_MAX_PER_HOST"),
                         wiring.getint(settings, "COOKIES_MAX_SIZE"),
                         wiring.getint(settings, "COOKIES_MAX_HEADER_BYTES"))
        middleware.crawler = crawler
        return middleware

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, count)

    def _process_cookies(self, cookies: Iterable[Cookie], *, jar: CookieJar, request: Request) -> None:
        kept = []
        for cookie in cookies:
            if self.max_size > 0 and len(cookie.name) + len(cookie.value or "") > self.max_size:
                self._inc("cookies/too_large")
                continue
            kept.append(cookie)
        super()._process_cookies(kept, jar=jar, request=request)
        if self.max_per_host > 0 and kept:
            self._bound(jar, request.meta.get("cookiejar"), kept)

    def _bound(self, jar: CookieJar, jar_key: Any, just_set: list[Cookie]) -> None:
        """Note ``just_set`` as the most recently set cookies; forget the oldest of a domain past the bound."""
        in_jar: defaultdict[str, set[_Key]] = defaultdict(set)
        for cookie in jar:
            in_jar[cookie.domain].add((cookie.domain, cookie.path, cookie.name))
        for domain, keys in in_jar.items():
            order = self.order[(jar_key, domain)]
            for key in [k for k in order if k not in keys]:  # expired or cleared since
                del order[key]
            for key in keys:
                order.setdefault(key, None)
        for cookie in just_set:
            key = (cookie.domain, cookie.path, cookie.name)
            order = self.order[(jar_key, cookie.domain)]
            if key in order:
                order.move_to_end(key)
        for domain in in_jar:
            order = self.order[(jar_key, domain)]
            while len(order) > self.max_per_host:
                (name_domain, path, name), _ = order.popitem(last=False)
                jar.clear(name_domain, path, name)
                self._inc("cookies/evicted")

    def process_request(self, request: Request, spider: Spider | None = None) -> Request | Response | None:
        result = super().process_request(request)
        header = request.headers.get(b"Cookie")
        if self.max_header > 0 and header and len(header) > self.max_header:
            kept: list[bytes] = []
            size = 0
            for pair in header.split(b"; "):
                if size + len(pair) + 2 * bool(kept) > self.max_header:
                    continue
                kept.append(pair)
                size += len(pair) + 2 * (len(kept) > 1)
            if kept:
                request.headers[b"Cookie"] = b"; ".join(kept)
            else:
                del request.headers[b"Cookie"]
            self._inc("cookies/header_trimmed")
        return result
