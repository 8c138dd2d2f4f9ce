"""QuietLogFormatter: the per-page DEBUG lines are built only when a handler would write them."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from scrapy import Spider
from scrapy.http import HtmlResponse, Request
from scrapy.logformatter import CRAWLEDMSG, SCRAPEDMSG
from scrapy.utils.test import get_crawler

from crawler.log_formatter import QuietLogFormatter, writes_debug


@pytest.fixture
def engine_logger() -> Iterator[logging.Logger]:
    """Scrapy's engine and scraper loggers cut off from the root (pytest's capture handlers sit there)."""
    loggers = [logging.getLogger("scrapy.core.engine"), logging.getLogger("scrapy.core.scraper")]
    saved = [(lg.propagate, list(lg.handlers), lg.level) for lg in loggers]
    for lg in loggers:
        lg.propagate = False
        lg.handlers = []
        lg.setLevel(logging.DEBUG)  # as in a crawl: Scrapy leaves the root logger at NOTSET
    yield loggers[0]
    for lg, (propagate, handlers, level) in zip(loggers, saved, strict=True):
        lg.propagate, lg.handlers = propagate, handlers
        lg.setLevel(level)


def _page() -> tuple[Request, HtmlResponse, Spider]:
    request = Request("http://127.0.0.1/art/2016/8/15/art_1_1.html")
    return request, HtmlResponse(request.url, body=b"<html></html>", request=request), Spider("t")


def _only(*levels: int) -> None:
    """Give both loggers exactly one handler at each of *levels* (pytest adds its capture handlers to them when
    the test body starts, after the fixture ran)."""
    for name in ("scrapy.core.engine", "scrapy.core.scraper"):
        handlers: list[logging.Handler] = [logging.NullHandler() for _ in levels]
        for handler, level in zip(handlers, levels, strict=True):
            handler.setLevel(level)
        logging.getLogger(name).handlers = handlers


def test_no_line_is_built_when_every_handler_is_above_debug(engine_logger: logging.Logger) -> None:
    _only(logging.INFO)
    request, response, spider = _page()
    formatter = QuietLogFormatter()
    assert formatter.crawled(request, response, spider) is None
    assert formatter.scraped({"title": "x"}, response, spider) is None


def test_a_debug_handler_gets_both_lines(engine_logger: logging.Logger) -> None:
    _only(logging.INFO, logging.DEBUG)
    request, response, spider = _page()
    formatter = QuietLogFormatter()
    crawled = formatter.crawled(request, response, spider)
    scraped = formatter.scraped({"title": "x"}, response, spider)
    assert crawled is not None and crawled["msg"] == CRAWLEDMSG and crawled["level"] == logging.DEBUG
    assert scraped is not None and scraped["msg"] == SCRAPEDMSG


def test_a_handler_at_notset_takes_debug_but_a_logger_level_above_it_stops_it(engine_logger: logging.Logger) -> None:
    _only(logging.NOTSET)
    assert writes_debug(engine_logger)
    engine_logger.setLevel(logging.INFO)
    assert not writes_debug(engine_logger)


def test_a_handler_above_a_logger_that_does_not_propagate_is_not_reached() -> None:
    parent = logging.getLogger("quiet_formatter_test")
    child = logging.getLogger("quiet_formatter_test.child")
    parent.propagate, child.propagate = False, True
    parent.setLevel(logging.DEBUG)
    handler = logging.NullHandler()
    parent.addHandler(handler)
    try:
        assert writes_debug(child)
        child.propagate = False
        assert not writes_debug(child)
    finally:
        parent.removeHandler(handler)


def test_the_project_settings_use_it() -> None:
    from crawler import settings

    crawler = get_crawler(Spider, {"LOG_FORMATTER": settings.LOG_FORMATTER})
    assert crawler.settings["LOG_FORMATTER"] == "crawler.log_formatter.QuietLogFormatter"
