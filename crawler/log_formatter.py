"""Scrapy's log formatter, without building the two DEBUG lines a page costs when no handler would write them.

Scrapy's engine asks the formatter for a "Crawled (200) <GET …>" line for every response and a "Scraped from …"
line for every item, both at DEBUG, and logs them through loggers whose level is left at NOTSET: the root logger's
handlers (``LOG_LEVEL``, the crawl log in the WARC, Scrapy's ``log_count`` counter) decide. At ``LOG_LEVEL =
INFO`` every handler drops them, after the message's arguments and a ``LogRecord`` were built (about 1.5% of the
crawl's CPU, issue 15). A formatter method may return None to skip its line (Scrapy's documented contract), so
`QuietLogFormatter` does when no handler the record would reach takes DEBUG; with ``LOG_LEVEL = DEBUG``, or any
DEBUG handler (pytest's ``caplog``), the lines are logged as before.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Request, Response
    from scrapy.logformatter import LogFormatterResult
    from twisted.python.failure import Failure

_ENGINE = logging.getLogger("scrapy.core.engine")
_SCRAPER = logging.getLogger("scrapy.core.scraper")


def writes_debug(logger: logging.Logger) -> bool:
    """True when a DEBUG record of *logger* would reach a handler that writes it (as ``Logger.callHandlers``
    walks: the logger and its ancestors, up to the first that does not propagate)."""
    if not logger.isEnabledFor(logging.DEBUG):
        return False
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= logging.DEBUG for handler in current.handlers):
            return True
        current = current.parent if current.propagate else None
    return False


class QuietLogFormatter(LogFormatter):
    """`LogFormatter` whose per-page DEBUG lines are skipped when nothing would write them (module docstring)."""

    def crawled(  # type: ignore[override]  # None skips the line (Scrapy's engine and scraper check for it)
            self, request: Request, response: Response, spider: Spider) -> LogFormatterResult | None:
        return super().crawled(request, response, spider) if writes_debug(_ENGINE) else None

    def scraped(  # type: ignore[override]
            self, item: Any, response: Response | Failure | None, spider: Spider) -> LogFormatterResult | None:
        return super().scraped(item, response, spider) if writes_debug(_SCRAPER) else None
