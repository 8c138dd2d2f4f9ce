"""The list side of the spider's bookkeeping: every widget of every column walked once, and what the verdict needs.

`ColumnLists` starts one `spiders.list_walk.WidgetWalk` per list widget (a widget seen again, on another column
page or the same page under another URL, is not walked twice), turns each walk's asks into Scrapy requests (the
walk rides in ``meta["list_walk"]``; errors reach the spider's errback, which tries the widget's next form), and
writes the per-column stats:

- ``lists/declared_total/<col>``: the largest total a widget of the column declares, the endpoint's own
  ``<totalrecord>`` replacing the page's ``totalRecord`` for that widget;
- ``lists/exhausted/<col>`` = 1 once every widget of the column was walked to its end;
- ``lists/truncated/<col>`` = 1 when ``LIST_MAX_PAGES_PER_WIDGET`` stopped a widget (warning; the run is incomplete);
- ``lists/unfinished/<col>`` = 1 when every form of a widget failed (error status or no list; incomplete);
- ``lists/widgets``, ``lists/pages/<form>``, ``lists/form_fallback``, ``lists/stopped/<why>``.

Every page of a list stands at its column page's depth (Scrapy's ``DEPTH_LIMIT`` bounds links, not pages of one
list); the releases a list page names are one deeper, as those of the column page itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import scrapy

from crawler import wiring
from spiders.list_walk import EXHAUSTED, FAILED, TRUNCATED, PageAsk, WidgetWalk

if TYPE_CHECKING:
    from scrapy.http import Response

    from spiders.list_widgets import ListWidget

logger = logging.getLogger(__name__)

#: meta key of a list request: its `WidgetWalk`
WALK = "list_walk"
#: What a list request carries from its column page (besides the walk and the depth).
LIST_META = ("column_id", "column_name", "list_page", "list_encoding")
LIST_PRIORITY = 0


class ColumnLists:
    """Starts and follows the widget walks of a crawl; keeps the per-column list stats."""

    def __init__(self, crawler: Any, callback: Callable[..., Any], errback: Callable[..., Any]) -> None:
        self.crawler = crawler
        self.callback = callback
        self.errback = errback
        self.max_pages = wiring.getint(crawler.settings, "LIST_MAX_PAGES_PER_WIDGET")
        self._started: set[tuple[str | None, str]] = set()
        self._open: dict[str, int] = {}
        self._ended_badly: set[str] = set()
        self._totals: dict[str, dict[str, int]] = {}

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    def start(self, column_id: str | None, widgets: list[ListWidget], response: Response, meta: dict[str, Any],
              page_records: list[str]) -> Iterator[scrapy.Request]:
        """The first request of each widget not walked yet; a column with nothing to walk is exhausted at once."""
        column = column_id or "?"
        self._open.setdefault(column, 0)
        depth = int(response.meta.get("depth", 0))
        for widget in widgets:
            self.declared(column_id, widget.key, widget.total, endpoint=False)
            key = (widget.unit_id, widget.proxy_url or response.url.split("?", 1)[0]) if widget.unit_id else (
                None, widget.key)
            if key in self._started:
                self.stats.inc_value("lists/widgets_seen_again")
                continue
            self._started.add(key)
            self.stats.inc_value("lists/widgets")
            walk = WidgetWalk.of(column_id, widget, response.url, depth, self.max_pages, page_records)
            self._open[column] += 1
            ask = walk.first()
            if ask is None:
                self._end(walk)
            else:
                yield from self._at_list_depth(response, [self.request(ask, walk, meta)], depth)
        self._settle(column)

    def declared(self, column_id: str | None, widget_key: str, total: int | None, *, endpoint: bool) -> None:
        """Record a widget's declared total (the endpoint's replaces the page's); set the column's largest."""
        if not column_id or total is None:
            return
        totals = self._totals.setdefault(column_id, {})
        if endpoint or f"endpoint:{widget_key}" not in totals:
            totals[widget_key] = total
        if endpoint:
            totals[f"endpoint:{widget_key}"] = 1
        largest = max(v for k, v in totals.items() if not k.startswith("endpoint:"))
        self.stats.set_value(f"lists/declared_total/{column_id}", largest)

    def request(self, ask: PageAsk, walk: WidgetWalk, meta: Any) -> scrapy.Request:
        """The Scrapy request of one ask (never filtered as a duplicate: the walk bounds itself)."""
        self.stats.inc_value(f"lists/pages/{ask.form}")
        meta = {**{k: meta.get(k) for k in LIST_META}, WALK: walk, "depth": walk.depth}
        if ask.body is None:
            return scrapy.Request(ask.url, callback=self.callback, errback=self.errback, meta=meta,
                                  priority=LIST_PRIORITY, dont_filter=True)
        return scrapy.Request(ask.url, method="POST", body=ask.body, callback=self.callback, errback=self.errback,
                              meta=meta, priority=LIST_PRIORITY, dont_filter=True,
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "Referer": walk.page_url, "X-Requested-With": "XMLHttpRequest"})

    def follow(self, walk: WidgetWalk, ask: PageAsk | None, meta: Any, response: Response | None,
               form_before: str | None) -> Iterator[scrapy.Request]:
        """The walk's next request (at the list's depth), or its end."""
        if ask is not None and ask.form != form_before:
            self.stats.inc_value("lists/form_fallback")
            logger.info("list widget %s of column %s: %s gave no list, trying %s", walk.widget.key, walk.column_id,
                        form_before, ask.form)
        if ask is None:
            self._end(walk)
            self._settle(walk.column_id or "?")
            return
        request = self.request(ask, walk, meta)
        if response is None:  # an errback's output: no DepthMiddleware, the meta's depth stands
            yield request
        else:
            yield from self._at_list_depth(response, [request], walk.depth)

    @staticmethod
    def _at_list_depth(response: Response, requests: list[scrapy.Request], depth: int) -> Iterator[scrapy.Request]:
        """Yield ``requests`` so that DepthMiddleware (depth = response's + 1) gives them the column page's depth."""
        saved = response.meta.get("depth", 0)
        response.meta["depth"] = depth - 1
        try:
            yield from requests
        finally:
            response.meta["depth"] = saved

    def _end(self, walk: WidgetWalk) -> None:
        column = walk.column_id or "?"
        self._open[column] = self._open.get(column, 1) - 1
        self.stats.inc_value(f"lists/widget_outcome/{walk.outcome}")
        if walk.outcome == TRUNCATED:
            self._ended_badly.add(column)
            self.stats.set_value(f"lists/truncated/{column}", 1)
            logger.warning("list_truncated: widget %s of column %s stopped at LIST_MAX_PAGES_PER_WIDGET=%d pages; "
                           "its later records are not listed", walk.widget.key, column, self.max_pages)
        elif walk.outcome == FAILED:
            self._ended_badly.add(column)
            self.stats.set_value(f"lists/unfinished/{column}", 1)
            logger.warning("list_unfinished: widget %s of column %s answered no list in any form (%s)",
                           walk.widget.key, column, walk.page_url)

    def _settle(self, column: str) -> None:
        if self._open.get(column, 0) <= 0 and column not in self._ended_badly and column != "?":
            self.stats.set_value(f"lists/exhausted/{column}", 1)

    def stopped(self, why: str) -> None:
        """Count why a walk ended exhausted (``empty``, ``seen``)."""
        self.stats.inc_value(f"lists/stopped/{why}")


__all__ = ["EXHAUSTED", "WALK", "ColumnLists"]
