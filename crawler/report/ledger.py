"""The conservation law of a run: every release URL the crawl learnt of ends as exactly one of a row in
``releases.jsonl``, a row in ``failures.jsonl`` with a machine-readable reason, or a documented skip.

`LedgerSpiderMiddleware` (at 960, next to the spider, before the recurring skip filter at 950 and Scrapy's depth
and URL-length filters) enters every release request the spider yields (``meta["release"]``, with its
``meta["column_id"]`` and ``meta["via"]``) into the run's `LedgerStore`. `ReleaseLedger` (an extension) follows each
one to its outcome through signals only, never through the spider's list walking:

- ``response_received``: the page answered (its final URL is remembered as an alias after redirects); a 3xx that
  no middleware followed is a failure row (``http_3xx``), as nothing else would write one;
- ``item_scraped`` / ``rows_written`` (the JSONL export): queued, then archived;
- ``item_dropped`` / ``item_error``: a skip when the drop says so (``skip_reason``: ``unchanged``), else a
  failure row ``not_exported``; ``spider_error`` on a release page: a failure row ``parse_error``;
- ``failure_recorded``: failed with the row's reason; ``release_skipped``: skipped with its reason;
- ``request_dropped`` (the dupefilter): a redirect whose target is fetched already, or the only request of a URL
  the dupefilter takes for another one (``;jsessionid=`` variants): skipped ``duplicate``.

At close (before the failure log closes), every entry with no outcome is settled: a release request over
``DEPTH_LIMIT`` or ``URLLENGTH_LIMIT`` (Scrapy's filters drop those silently) is a ``depth_limit`` /
``url_too_long`` skip; a row queued but never written and everything else becomes a failure row: ``not_exported``,
``not_fetched`` when the run stopped early, else ``unaccounted`` (a loss path nobody recorded). The counts go into
the stats (``ledger/...``, per column ``ledger/column/<id>/<listed|archived|failed|skipped>``), where the verdict
and the report read them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, Self

import scrapy
from scrapy import signals

from crawler import meta, wiring
from crawler.fetch.failure_log import record_failure
from crawler.fetch.failure_reasons import NotExported, NotFetched, ParseError, Unaccounted
from crawler.report.ledger_store import ARCHIVED, FAILED, FETCHED, QUEUED, SKIPPED, LedgerStore
from crawler.signals import failure_recorded, release_skipped, rows_written
from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


def get_ledger(crawler: Crawler) -> ReleaseLedger | None:
    """The crawler's ledger extension, if enabled."""
    return wiring.extension(crawler, ReleaseLedger)


class ReleaseLedger:
    """See the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.store = LedgerStore()
        self.closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        connect = crawler.signals.connect
        connect(ext.spider_closed, signal=signals.spider_closed)
        connect(ext.response_received, signal=signals.response_received)
        connect(ext.item_scraped, signal=signals.item_scraped)
        connect(ext.item_dropped, signal=signals.item_dropped)
        connect(ext.item_error, signal=signals.item_error)
        connect(ext.spider_error, signal=signals.spider_error)
        connect(ext.request_dropped, signal=signals.request_dropped)
        connect(ext.failure_recorded, signal=failure_recorded)
        connect(ext.release_skipped, signal=release_skipped)
        connect(ext.rows_written, signal=rows_written)
        return ext

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    # -- learning -----------------------------------------------------------------------------------------

    def learn(self, request: Request, response: Response | None) -> None:
        """Enter a release request the spider yielded."""
        if self.closed:
            return
        via = request.meta.get(meta.VIA) or (response.url if response is not None else None)
        depth = int(response.meta.get("depth", 0)) + 1 if response is not None and response.request else 0
        column = request.meta.get(meta.COLUMN_ID)
        if self.store.learn(meta.ledger_key(request), str(column) if column else None, via, depth):
            self.stats.inc_value("ledger/learnt")

    def _key(self, request: Request) -> str | None:
        if self.closed or not request.meta.get(meta.RELEASE):
            return None
        return self.store.resolve(meta.ledger_key(request))

    # -- outcomes -------------------------------------------------------------------------------------------

    def response_received(self, response: Response, request: Request) -> None:
        key = self._key(request)
        if key is None:
            return
        self.store.alias(response.url, key)
        self.store.advance(key, FETCHED)
        if 300 <= response.status < 400:  # a 3xx no middleware followed or recorded (300, no Location, ...)
            record_failure(self.crawler, request, f"http_{response.status}", "a redirect that was not followed",
                           response)

    def item_scraped(self, item: Any, response: Response) -> None:
        key = self._item_key(item)
        if key is not None:
            self.store.advance(key, QUEUED)

    def rows_written(self, urls: list[str]) -> None:
        for url in urls:
            key = None if self.closed else self.store.resolve(url)
            if key is None:
                self.stats.inc_value("ledger/rows_unlisted")  # a row for no listed URL (a removal check, a test)
            elif self.store.advance(key, ARCHIVED):
                self.stats.inc_value("ledger/rows_archived")

    def item_dropped(self, item: Any, response: Response, exception: BaseException) -> None:
        key = self._item_key(item)
        if key is None:
            return
        skip = getattr(exception, "skip_reason", None)
        if skip:
            self.store.advance(key, SKIPPED, str(skip))
        else:
            self._fail(key, NotExported.reason, f"the row was dropped: {exception}")

    def item_error(self, item: Any, response: Response, failure: Failure) -> None:
        key = self._item_key(item)
        if key is not None:
            self._fail(key, NotExported.reason, f"a pipeline failed on the row: {failure.getErrorMessage()}")

    def spider_error(self, failure: Failure, response: Response) -> None:
        request = getattr(response, "request", None)
        key = self._key(request) if request is not None else None
        if key is None:
            return
        entry = self.store.entry(key)
        if entry is not None and entry[0] not in (QUEUED, ARCHIVED, FAILED, SKIPPED):
            record_failure(self.crawler, request, ParseError.reason,  # type: ignore[arg-type]
                           f"{failure.type.__name__ if failure.type else 'error'}: {failure.getErrorMessage()}",
                           response)

    def request_dropped(self, request: Request) -> None:
        """The dupefilter dropped a release request: a redirect to a page fetched already, or a URL it takes for
        another one (``;jsessionid=`` variants) is a ``duplicate`` skip; a URL listed twice keeps its other copy."""
        key = self._key(request)
        if key is None:
            return
        if key != request.url or self.store.drop_copy(key):
            self.store.advance(key, SKIPPED, "duplicate")

    def failure_recorded(self, request: Request, reason: str, row: Any) -> None:
        key = self._key(request)
        if key is not None:
            self.store.advance(key, FAILED, reason)

    def release_skipped(self, request: Request, reason: str) -> None:
        key = self._key(request)
        if key is not None:
            self.store.advance(key, SKIPPED, reason)

    def _item_key(self, item: Any) -> str | None:
        url = getattr(item, "url", None)
        if url is None and isinstance(item, dict):
            url = item.get("url")
        return None if self.closed or not url else self.store.resolve(str(url))

    def _fail(self, key: str, reason: str, detail: str) -> None:
        """Write a failure row for an entry (a request made up from what the ledger kept)."""
        entry = self.store.entry(key)
        via, column = (entry[2], entry[3]) if entry else (None, None)
        request = scrapy.Request(key, meta={meta.RELEASE: True, meta.VIA: via, meta.COLUMN_ID: column,
                                            "depth": 1})
        record_failure(self.crawler, request, reason, detail)

    # -- close ----------------------------------------------------------------------------------------------

    def spider_closed(self, reason: str) -> None:
        """Settle every open entry, put the counts into the stats, drop the store."""
        try:
            self.settle(reason)
            self.publish()
        finally:
            self.closed = True
            self.store.close()

    def settle(self, close_reason: str) -> None:
        settings = self.crawler.settings
        depth_limit = settings.getint("DEPTH_LIMIT")
        url_limit = settings.getint("URLLENGTH_LIMIT")
        for entry in list(self.store.open_entries()):
            if entry.state == QUEUED:
                self._fail(entry.key, NotExported.reason, "the row was never written to releases.jsonl "
                           "(its WARC record was not durable, or the file could not be written)")
            elif entry.state == "pending" and depth_limit and (entry.depth or 0) > depth_limit:
                self.store.advance(entry.key, SKIPPED, "depth_limit")
                self.stats.inc_value("skips/depth_limit")
            elif entry.state == "pending" and url_limit and len(entry.key) > url_limit:
                self.store.advance(entry.key, SKIPPED, "url_too_long")
                self.stats.inc_value("skips/url_too_long")
            elif close_reason != "finished":
                self._fail(entry.key, NotFetched.reason, f"the run ended ({close_reason}) before this release "
                           f"was {'archived' if entry.state == FETCHED else 'fetched'}")
            else:
                self._fail(entry.key, Unaccounted.reason, f"learnt from {entry.via} but no outcome was recorded "
                           f"(last state: {entry.state})")
                logger.error("Release %s reached no outcome (last state %s): written as a failure row "
                             "(unaccounted)", entry.key, entry.state)
        self.store.commit()

    def publish(self) -> None:
        """The ledger's counts into the stats (the verdict and the report read them there)."""
        stats = self.stats
        learnt = self.store.count()
        stats.set_value("ledger/learnt", learnt)
        totals: dict[str, int] = {ARCHIVED: 0, FAILED: 0, SKIPPED: 0, "open": 0}
        for (state, reason), count in self.store.totals().items():
            bucket = state if state in totals else "open"
            totals[bucket] += count
            if state in (FAILED, SKIPPED):
                stats.set_value(f"ledger/{state}/{reason}", count)
        for name, count in totals.items():
            stats.set_value(f"ledger/{name}", count)
        names = getattr(self.crawler.spider, "column_names", None) or {}
        for column, counts in self.store.by_column().items():
            for name, count in counts.items():
                stats.set_value(f"ledger/column/{column}/{name}", count)
            if column in names:
                stats.set_value(f"ledger/column/{column}/name", str(names[column]))


class LedgerSpiderMiddleware(CrawlerComponent):
    """Spider middleware (960): every release request the spider yields, and its start requests, into the ledger."""

    @property
    def ledger(self) -> ReleaseLedger | None:
        return get_ledger(self.crawler)

    def _see(self, element: Any, response: Response | None) -> None:
        if isinstance(element, scrapy.Request) and element.meta.get(meta.RELEASE):
            ledger = self.ledger
            if ledger is not None:
                ledger.learn(element, response)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for element in start:
            self._see(element, None)
            yield element

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        for element in result:
            self._see(element, response)
            yield element

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]
                                          ) -> AsyncIterator[Any]:
        async for element in result:
            self._see(element, response)
            yield element
