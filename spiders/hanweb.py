"""The ``hanweb`` spider: home page -> column pages -> jpage list pages -> release pages.

Release pages are leaves: no page is followed from them, only their attachments (``spiders.attachments``) and
page requisites (``spiders.requisites``) are fetched, to be archived. Hit counters are never requested.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from crawler import meta, wiring
from crawler.fetch.asset_scope import AssetScope, parse_asset_hosts
from crawler.fetch.counter_guard import is_counter_url
from crawler.items import ReleaseItem, fetched_at_of, found_attachment
from crawler.meta import capture_pointer
from pipelines import EXTRACTOR_VERSION
from spiders.attachments import AttachmentConfig, AttachmentTracker
from spiders.column_lists import LIST_PRIORITY, WALK, ColumnLists
from spiders.decoding import decode_html
from spiders.hanweb_lists import (
    article_ids,
    column_id_of,
    looks_like_hanweb,
    parse_column_page,
    parse_list_answer,
    release_key,
)
from spiders.links import MALFORMED_STAT
from spiders.list_walk import EXHAUSTED, PAGENUM, WidgetWalk
from spiders.release_page import parse_release_document
from spiders.requisites import RequisiteFinder

#: Release pages are fetched before more list pages, so the queue holds at most a few list pages' releases.
RELEASE_PRIORITY = 10


class HanwebSpider(scrapy.Spider):
    """Walks a Hanweb portal's columns and archives every release page once."""

    name = "hanweb"
    attachments: AttachmentTracker
    requisites: RequisiteFinder
    lists: ColumnLists

    def __init__(self, start_url: str | None = None, portal: str = "demo", allowed_hosts: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        urls = start_url or kwargs.get("start_urls")
        if not urls:
            raise ValueError("the hanweb spider needs -a start_url=URL (one or several, comma-separated)")
        self.start_urls = [u.strip() for u in str(urls).split(",") if u.strip()]
        self.portal = portal
        hosts = [h.strip() for h in (allowed_hosts or "").split(",") if h.strip()]
        self.allowed_domains = hosts or sorted({urlsplit(u).hostname or "" for u in self.start_urls} - {""})
        #: Column id -> name, learned from the column pages (a few dozen per portal).
        self.column_names: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> HanwebSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        scope = AssetScope(spider.allowed_domains, parse_asset_hosts(wiring.get(settings, "PORTAL_ASSET_HOSTS")))
        spider.attachments = AttachmentTracker(crawler, AttachmentConfig.from_settings(settings), scope,
                                               spider.parse_attachment, spider.attachment_failed)
        spider.requisites = RequisiteFinder(crawler, wiring.getbool(settings, "REQUISITES_ENABLED"),
                                            wiring.getint(settings, "REQUISITES_MAX_SIZE"), scope,
                                            spider.parse_requisite, spider.requisite_failed)
        spider.lists = ColumnLists(crawler, spider.parse_dataproxy, spider.list_failed)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.start_urls:
            if column_id_of(url):
                yield scrapy.Request(url, callback=self.parse_column, priority=LIST_PRIORITY)
            else:
                yield scrapy.Request(url, callback=self.parse_home, priority=LIST_PRIORITY)

    # -- list side ---------------------------------------------------------------------------------------

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow every column the home page links or iframes; releases linked from it are fetched too."""
        if not hasattr(response, "text"):
            return
        listing = parse_column_page(response.text, response.url)
        stats = self.crawler.stats
        stats.inc_value("home/pages")  # what the verdict says of a start page that is no portal
        stats.set_value("home/url", response.url)
        stats.max_value("home/hanweb", int(looks_like_hanweb(response.text)))
        stats.max_value("home/column_links", len(listing.column_links))
        self._count_malformed(listing.malformed)
        for url in listing.column_links:
            yield self._column_request(url)
        yield from self._release_requests(listing.records, listing.column_id, None, _encoding(response), response.url)

    def parse_column(self, response: Response) -> Iterator[scrapy.Request]:
        """Releases the column page shows, its sub-columns, and the first request of each of its list widgets."""
        if not hasattr(response, "text"):
            return
        listing = parse_column_page(response.text, response.url)
        column_id = listing.column_id or response.meta.get("column_id")
        column_name = listing.column_name
        if column_id and column_name:
            self.column_names.setdefault(column_id, column_name)
        self.crawler.stats.inc_value("lists/column_pages")
        self._count_malformed(listing.malformed)
        yield from self._release_requests(listing.records, column_id, column_name, _encoding(response), response.url)
        for url in listing.column_links:
            yield self._column_request(url)
        meta = {"column_id": column_id, "column_name": column_name, "list_page": response.url,
                "list_encoding": _encoding(response)}
        yield from self.lists.start(column_id, listing.widgets, response, meta, [r.url for r in listing.records])

    def parse_dataproxy(self, response: Response) -> Iterator[scrapy.Request]:
        """One page of a list widget: its releases (links resolve against the column page), then the walk's next
        request; a page that is no list, or lists nothing from the start, hands the walk to the next form."""
        walk: WidgetWalk = response.meta[WALK]
        column_id, column_name = response.meta.get("column_id"), response.meta.get("column_name")
        base = response.meta.get("list_page", response.url)
        encoding = response.meta.get("list_encoding", "utf-8")
        form = walk.form
        self.crawler.stats.inc_value("lists/dataproxy_pages")
        nextgroup = None
        if form == PAGENUM:
            listing = parse_column_page(response.text, response.url) if hasattr(response, "text") else None
            records = listing.records if listing is not None else []
            is_list = listing is not None
            self._count_malformed(listing.malformed if listing is not None else 0)
        else:
            answer = parse_list_answer(response.body, base)
            records, is_list, nextgroup = answer.records, answer.is_list, answer.nextgroup
            self._count_malformed(answer.malformed)
            self.lists.declared(column_id, walk.widget.key, answer.total, endpoint=True)
            if answer.is_list and not answer.fragments:
                self.crawler.stats.inc_value("lists/empty_dataproxy_pages")
        yield from self._release_requests(records, column_id, column_name, encoding, response.url)
        quiet = walk.quiet
        ask = walk.answered(is_list, [record.url for record in records], nextgroup)
        if walk.quiet > quiet:
            self.crawler.stats.inc_value("lists/pagination_anomaly")
            self.logger.warning("pagination_anomaly: %s lists only records its list showed before", response.url)
        if ask is None and walk.outcome == EXHAUSTED:
            self.lists.stopped("seen" if walk.quiet > quiet else "empty")
        yield from self.lists.follow(walk, ask, response.meta, response, form)

    def list_failed(self, failure: Any) -> Iterator[scrapy.Request]:
        """A list page answered an error (or none): the walk tries the widget's next form, else it ends failed."""
        request = failure.request
        walk: WidgetWalk | None = request.meta.get(WALK)
        if walk is None:
            return
        form = walk.form
        self.crawler.stats.inc_value("lists/error_pages")
        yield from self.lists.follow(walk, walk.failed(), request.meta, None, form)

    def _count_malformed(self, count: int) -> None:
        if count:
            self.crawler.stats.inc_value(MALFORMED_STAT, count)

    def _column_request(self, url: str) -> scrapy.Request:
        """A column page, without its query: ``?t=N`` cache-busters name the same page, ``?uid=U&pageNum=N`` pages
        of it are walked by its widget."""
        return scrapy.Request(url.split("?", 1)[0], callback=self.parse_column, priority=LIST_PRIORITY,
                              meta={"column_id": column_id_of(url)})

    def _release_requests(self, records: list[Any], column_id: str | None, column_name: str | None,
                          encoding: str = "utf-8", via: str | None = None) -> Iterator[scrapy.Request]:
        for record in records:
            if not is_counter_url(record.url):
                yield release_request(record, column_id, column_name, encoding, self.parse_release, via)

    # -- release side ------------------------------------------------------------------------------------

    def parse_release(self, response: Response) -> Iterator[ReleaseItem | scrapy.Request]:
        """Turn one release page into a raw release item, yielded once its attachments are archived or skipped."""
        item, text = release_item_and_text(response, self.portal, self.column_names, text_decoded=True)
        requisites = list(self.requisites.requests(response, text))
        del text  # the page's text is not kept while this generator waits on the engine
        yield from requisites
        yield from self.attachments.release(item, int(response.meta.get("depth", 0)))

    # -- archive-only fetches: nothing is parsed from these responses -------------------------------------

    def parse_attachment(self, response: Response) -> Iterator[ReleaseItem | scrapy.Request]:
        yield from self.attachments.downloaded(response)

    def attachment_failed(self, failure: Any) -> Iterator[ReleaseItem | scrapy.Request]:
        yield from self.attachments.failed(failure)

    def parse_requisite(self, response: Response) -> None:
        self.requisites.downloaded(response)

    def requisite_failed(self, failure: Any) -> None:
        self.requisites.failed(failure)


def release_request(record: Any, column_id: str | None, column_name: str | None, encoding: str,
                    callback: Any = None, via: str | None = None) -> scrapy.Request:
    """The request for a listed release; a non-ASCII query is percent-encoded in the list page's encoding, as a
    browser does (a GBK page's ``?lm=通知`` becomes ``?lm=%CD%A8%D6%AA``). It is marked as a release request
    (``meta["release"]``) with the page that listed it (``meta["via"]``): the accounting follows it from there."""
    ids = article_ids(record.url)
    return scrapy.Request(
        record.url, callback=callback, priority=RELEASE_PRIORITY, encoding=encoding,
        meta={meta.COLUMN_ID: column_id or (ids[0] if ids else None), "column_name": column_name,
              "list_title": record.title, meta.RELEASE: True, meta.VIA: via},
    )


def _encoding(response: Response) -> str:
    """The encoding a list page was decoded with (Scrapy's TextResponse), else UTF-8."""
    return str(getattr(response, "encoding", None) or "utf-8")


def build_release_item(response: Response, portal: str, column_names: Mapping[str, str],
                       fetched_at: str | None = None) -> ReleaseItem:
    """Build the raw item of a release page: shared by the live crawl and by replay.

    The column is the one the URL names (``art_{column}_{article}.html``), so a replay from the WARC alone
    gives the same column as the live crawl; its name comes from that column's page when it was crawled.
    ``fetched_at`` is the WARC-Date of the response record (from the capture pointer when live).
    """
    return release_item_and_text(response, portal, column_names, fetched_at)[0]


def release_item_and_text(response: Response, portal: str, column_names: Mapping[str, str],
                          fetched_at: str | None = None, *, text_decoded: bool = False) -> tuple[ReleaseItem, str]:
    """`build_release_item` and the page's text as it was decoded for it (the requisites finder reads it).

    ``text_decoded``: Scrapy's ``response.text`` is decoded already (the live crawl's release checks read it), so
    ``decode_html`` may take it instead of decoding again; offline (replay, ``crawler extract``) nothing has, and
    asking Scrapy for it there costs more than decoding once (about 1% of the extraction's time).
    """
    content_type = response.headers.get(b"Content-Type")
    scrapy_decoding = ((lambda: (response.encoding, response.text))
                       if text_decoded and isinstance(response, TextResponse) else None)
    decoded = decode_html(response.body, content_type.decode("latin-1") if content_type else None, scrapy_decoding)
    raw, root = parse_release_document(decoded.text, response.url)
    ids = article_ids(response.url)
    meta = response.meta if response.request is not None else {}
    column_id = ids[0] if ids else meta.get("column_id")
    title = raw["title"] or meta.get("list_title")
    pointer = capture_pointer(response) if response.request is not None else None
    item = ReleaseItem(
        extractor_version=EXTRACTOR_VERSION,
        release_id=f"{portal}:{key}" if (key := release_key(response.url)) else None,
        portal=portal,
        url=response.url,
        column_id=column_id,
        # the page's own ColumnName meta (national standard), else the name its column page gave
        column_name=raw["column_name"] or (column_names.get(column_id) if column_id else None),
        title=title,
        release_raw=raw["release_raw"],
        release_source=raw["release_source"],
        pubdate_raw=raw["pubdate_raw"],
        hits_raw=raw["hits_raw"],
        hits_scripted=raw["hits_scripted"],
        source=raw["source"],
        index_no=raw["index_no"],
        doc_no=raw["doc_no"],
        body_html=raw["body_html"],
        # a page that did not parse was not looked at: null; else every link found, [] for none
        attachments=None if root is None else [found_attachment(a["url"], a["name"], a.get("malformed", False))
                                             for a in raw["attachments_found"]],
        attachments_found=raw["attachments_found"],
        language=raw["language"],
        charset={"header": decoded.header_charset, "meta": decoded.meta_charset, "used": decoded.used},
        fetched_at=fetched_at_of(fetched_at or (pointer.date if pointer is not None else None)),
        warc=pointer.row() if pointer is not None else None,
    )
    return item, decoded.text


