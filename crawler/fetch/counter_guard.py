"""A downloader middleware that refuses hit-counter requests: fetching one inflates the portal's count.

The rule (``is_counter_url``) is also what the spider uses not to request counters in the first place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crawler.fetch.failure_reasons import HitCounterRefused
from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy import Request

COUNTER_PATH = re.compile(r"/(?:visitcount/(?:visit|articlehits)|artcount/artcount|interface/visit)\.jsp", re.I)


def is_counter_url(url: str) -> bool:
    """True for the CMS's hit-counter endpoints, which count every request and must never be fetched."""
    return bool(COUNTER_PATH.search(urlsplit(url).path))


class HitCounterGuardMiddleware(CrawlerComponent):
    """Drops requests to visit.jsp, articlehits.jsp and artcount.jsp, whatever produced them."""

    def process_request(self, request: Request) -> None:
        if is_counter_url(request.url):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("guard/hit_counter_refused")
            raise HitCounterRefused(f"hit counter not fetched: {request.url}")
