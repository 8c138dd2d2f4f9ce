"""Each crawl's log lines in its own ``crawl.log`` when one process runs several crawls (``crawler crawl-batch``).

Scrapy keeps one root log handler per process and, when a crawler starts, replaces it with one built from *that*
crawler's ``LOG_FILE``: with several portals in one process every line would land in the last portal's log, and
each crawler's ``log_count/*`` stats would count every portal's lines. Here a record is attributed to a crawl by
what it carries (Scrapy's ``extra={"spider": …}`` or ``{"crawler": …}``, which its components and spider loggers
add), else by the crawl whose callbacks are running (`CURRENT_CRAWLER`, a context variable set when a crawl is
started; asyncio and Twisted's ``inlineCallbacks`` carry it into everything the crawl schedules). A record no crawl
can be named for goes to the process's own log.

In a process that runs one crawl (``crawler crawl``, ``demo``) nothing changes: `routing_enabled` is false and
`OnlyThisCrawl` lets every record through, as before.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

#: The crawl whose code is running (set by the multi-crawl runner when it starts a crawl).
CURRENT_CRAWLER: ContextVar[Any] = ContextVar("current_crawler", default=None)

_routing = {"enabled": False}


def enable_routing() -> None:
    """Turn attribution on for this process: from now on `OnlyThisCrawl` keeps only its crawl's records."""
    _routing["enabled"] = True


def routing_enabled() -> bool:
    """True in a process that runs several crawls (see the module docstring)."""
    return _routing["enabled"]


def crawler_of(record: logging.LogRecord) -> Any:
    """The crawler a log record belongs to, or None when nothing names one."""
    crawler = getattr(record, "crawler", None)
    if crawler is not None:
        return crawler
    spider = getattr(record, "spider", None)
    crawler = getattr(spider, "crawler", None) if spider is not None else None
    return crawler if crawler is not None else CURRENT_CRAWLER.get()


class OnlyThisCrawl(logging.Filter):
    """Keep the records of one crawl (every record while routing is off)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__()
        self.crawler = crawler

    def filter(self, record: logging.LogRecord) -> bool:
        return not routing_enabled() or crawler_of(record) is self.crawler


class NoCrawl(logging.Filter):
    """Keep the records no crawl can be named for (the process log of a multi-crawl process)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return crawler_of(record) is None


def own_log_counter(crawler: Any) -> None:
    """Make the crawler's ``log_count/*`` stats count its own records only (Scrapy's counter counts every line)."""
    from scrapy.utils.log import LogCounterHandler

    for handler in logging.root.handlers:
        if (isinstance(handler, LogCounterHandler) and handler.crawler is crawler
                and not any(isinstance(f, OnlyThisCrawl) for f in handler.filters)):
            handler.addFilter(OnlyThisCrawl(crawler))


def add_crawl_log(crawler: Any) -> logging.Handler:
    """Open the crawler's own ``LOG_FILE`` (Scrapy's handler for its settings) fed with its records only."""
    from scrapy.utils.log import _get_handler

    handler = _get_handler(crawler.settings)
    handler.addFilter(OnlyThisCrawl(crawler))
    logging.root.addHandler(handler)
    return handler


def start_routing(process_settings: Any) -> logging.Handler:
    """Route this process's log records by crawl (see the module docstring); the records of no crawl go to the
    handler of ``process_settings`` (its ``LOG_FILE``), which is returned."""
    from scrapy.utils.log import _get_handler

    enable_routing()
    logging.root.setLevel(logging.NOTSET)  # levels are the handlers' (LOG_LEVEL), as Scrapy's root handler does
    handler = _get_handler(process_settings)
    handler.addFilter(NoCrawl())
    logging.root.addHandler(handler)
    return handler
