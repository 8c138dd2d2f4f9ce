"""The walk of ONE list widget: the next request from what the last page brought, until the list is exhausted.

A browser pages a widget in the form the page declares: the jpage POST of ``startrecord/endrecord/perpage`` with the
ajaxParam form when the page runs a jpage call (``ranges``), else the ``<nextgroup>`` GET chain of
``dataproxy.jsp?page=N`` (``pages``), else the column page's own pager ``?uid=U&pageNum=N`` (``pagenum``). A form
that answers an error status, a non-list page, or nothing from its very first request gives way to the next form.

Nothing is planned from ``totalRecord`` (it is stale, absent or 3,000,000): one request at a time, and the walk
stops at an empty page (``exhausted``), after `SEEN_PAGES_TO_STOP` pages in a row that bring only records it has
seen (a server ignoring the paging; ``exhausted``), or at the trap cap ``LIST_MAX_PAGES_PER_WIDGET`` (``truncated``:
the run is incomplete). A widget whose every form failed ends ``failed``.

`WidgetWalk` is plain state (no Scrapy), kept in the list requests' meta; `ColumnLists` (in ``spiders.hanweb``'s
list side) turns its asks into requests and keeps the per-column stats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from spiders.links import absolute_url
from spiders.list_widgets import ListWidget

#: Pages in a row that bring no record the walk has not seen before it stops (the first GET page of some sites
#: repeats the embedded group, so one such page is no end).
SEEN_PAGES_TO_STOP = 2
RANGES, PAGES, PAGENUM = "ranges", "pages", "pagenum"
EXHAUSTED, TRUNCATED, FAILED = "exhausted", "truncated", "failed"


@dataclass(frozen=True)
class PageAsk:
    """One list request: GET when ``body`` is None, else a form POST; ``form`` names the list form."""

    url: str
    form: str
    body: str | None = None


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))


def forms_of(widget: ListWidget) -> list[str]:
    """The forms to try, in the order a browser uses them, then the others the page names."""
    forms: list[str] = []
    if widget.jpage and widget.proxy_url:
        forms.append(RANGES)
    if widget.nextgroup and _page_of(widget.nextgroup) is not None:
        forms.append(PAGES)  # a nextgroup of the startrecord kind only names the endpoint
    if widget.proxy_url and RANGES not in forms and widget.form:
        forms.append(RANGES)  # no jpage call, but the nextgroup link names the endpoint and its fields
    if widget.pagenum:
        forms.append(PAGENUM)
    return forms


@dataclass
class WidgetWalk:
    """The state of one widget's walk: where it is, what it has seen, how it ended."""

    column_id: str | None
    widget: ListWidget
    page_url: str  # the column page: records resolve against it, the pagenum form pages it
    depth: int  # the column page's depth: every page of the list stands there
    max_pages: int
    forms: list[str] = field(default_factory=list)
    pages: int = 0  # requests made, every form together
    outcome: str | None = None  # exhausted | truncated | failed, once ended
    form_pages: int = 0  # answers of the current form
    form_records: int = 0  # records the current form brought
    quiet: int = 0  # pages in a row with nothing new
    seen: set[int] = field(default_factory=set)  # hashes of the record URLs the current form has seen
    start: int = 0  # ranges: the next startrecord
    url: str = ""  # pages: the current page's URL
    visited: set[str] = field(default_factory=set)  # pages: URLs asked, against a nextgroup loop
    page_num: int = 1  # pagenum: the current page number
    empty_answer: bool = False  # a form answered a list with nothing in it: a later form's errors are no failure
    embedded: set[int] = field(default_factory=set)  # hashes of the records the column page itself shows

    @classmethod
    def of(cls, column_id: str | None, widget: ListWidget, page_url: str, depth: int, max_pages: int,
           page_records: list[str] | None = None) -> WidgetWalk:
        """A walk of ``widget`` (``page_records``: release URLs the column page shows, for the pagenum form)."""
        embedded = {hash(u) for u in (page_records or [])} | {hash(r.url) for r in widget.records}
        return cls(column_id, widget, page_url, depth, max_pages, forms_of(widget), embedded=embedded)

    @property
    def form(self) -> str | None:
        return self.forms[0] if self.forms else None

    def first(self) -> PageAsk | None:
        """The first request of the walk, or None (and ``outcome`` exhausted) when the widget has no more pages."""
        while self.forms:
            ask = self._begin()
            if ask is not None:
                return self._count(ask)
            self.forms.pop(0)
        self.outcome = self.outcome or EXHAUSTED
        return None

    def _begin(self) -> PageAsk | None:
        self.form_pages = self.form_records = self.quiet = 0
        self.seen = set(self.embedded)
        widget = self.widget
        if self.form == RANGES:
            self.start = widget.embedded + 1
            return self._range()
        if self.form == PAGES and widget.nextgroup:
            self.url = widget.nextgroup
            self.visited = {self.url}
            return PageAsk(self.url, PAGES)
        if self.form == PAGENUM and widget.unit_id:
            self.page_num = 2
            return self._pagenum()
        return None

    def _range(self) -> PageAsk:
        widget = self.widget
        step = widget.per_page * widget.group_size
        query = [("startrecord", str(self.start)), ("endrecord", str(self.start + step - 1)),
                 ("perpage", str(widget.per_page))]
        return PageAsk(_with_query(str(widget.proxy_url), query), RANGES, urlencode(list(widget.form)))

    def _pagenum(self) -> PageAsk:
        base = self.page_url.split("?", 1)[0].split("#", 1)[0]
        return PageAsk(f"{base}?uid={self.widget.unit_id}&pageNum={self.page_num}", PAGENUM)

    def _count(self, ask: PageAsk) -> PageAsk | None:
        if self.pages >= self.max_pages:
            self.outcome = TRUNCATED
            return None
        self.pages += 1
        return ask

    def failed(self) -> PageAsk | None:
        """The current form answered an error (or none): the next form's first request, else the walk failed."""
        if self.forms:
            self.forms.pop(0)
        ask = self.first()
        if ask is None and self.outcome == EXHAUSTED and not self.empty_answer:
            self.outcome = FAILED
        return ask

    def answered(self, is_list: bool, record_urls: list[str], nextgroup: str | None = None) -> PageAsk | None:
        """What the current page brought; the next request, or None when the walk has ended (see ``outcome``)."""
        if not is_list:
            return self.failed()
        self.form_pages += 1
        if not record_urls:
            if self.form_records == 0 and len(self.forms) > 1:
                self.empty_answer = True
                return self.failed()  # a form that lists nothing at all: perhaps the site answers another one
            self.outcome = EXHAUSTED
            return None
        self.form_records += len(record_urls)
        new = {hash(url) for url in record_urls} - self.seen
        self.seen |= new
        self.quiet = 0 if new else self.quiet + 1
        if self.quiet >= SEEN_PAGES_TO_STOP:
            self.outcome = EXHAUSTED
            return None
        ask = self._next(nextgroup)
        if ask is None:
            self.outcome = EXHAUSTED
            return None
        return self._count(ask)

    def _next(self, nextgroup: str | None) -> PageAsk | None:
        widget = self.widget
        if self.form == RANGES:
            self.start += widget.per_page * widget.group_size
            return self._range()
        if self.form == PAGENUM:
            self.page_num += 1
            return self._pagenum()
        following = absolute_url(self.page_url, nextgroup) if nextgroup else None
        if following is None or following in self.visited:
            following = _next_page(self.url)
        if following is None or following in self.visited:
            return None
        self.url = following
        self.visited.add(following)
        return PageAsk(following, PAGES)


def _page_of(url: str) -> int | None:
    """The ``page`` parameter of a GET list URL, or None."""
    value = dict(parse_qsl(urlsplit(url).query)).get("page", "")
    return int(value) if value.isdigit() else None


def _next_page(url: str) -> str | None:
    """``url`` with its ``page`` parameter one higher (None without one)."""
    params = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    if not any(k == "page" and v.isdigit() for k, v in params):
        return None
    return _with_query(url, [(k, str(int(v) + 1) if k == "page" and v.isdigit() else v) for k, v in params])
