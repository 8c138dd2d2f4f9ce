"""Keep Scrapy's cookie middleware from downloading the public-suffix list at run time.

Scrapy's ``CookiesMiddleware`` builds a module-level ``TLDExtract()`` that fetches publicsuffix.org on first use.
An archive crawler must talk to the portals it archives and nothing else, so this extension swaps in an extractor
that reads only the snapshot bundled with tldextract.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares import cookies
from tldextract import TLDExtract


class BundledPublicSuffixList:
    """Extension: point the cookie middleware at tldextract's bundled suffix list (no network)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BundledPublicSuffixList:
        cookies._split_domain = TLDExtract(suffix_list_urls=(), include_psl_private_domains=True, cache_dir=None)
        return cls()
