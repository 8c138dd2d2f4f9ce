"""A downloader middleware that refuses hit-counter requests: fetching one inflates the portal's count."""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

from spiders.hanweb_lists import is_counter_url


class HitCounterGuardMiddleware:
    """Drops requests to visit.jsp, articlehits.jsp and artcount.jsp, whatever produced them."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HitCounterGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if is_counter_url(request.url):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("guard/hit_counter_refused")
            raise IgnoreRequest(f"hit counter not fetched: {request.url}")
