"""The root of the errors the crawler package raises itself (Scrapy's own exceptions stay Scrapy's)."""


class CrawlerError(Exception):
    """Root of the crawler package's own errors (bad input, registry, state, locks, IP policy)."""
