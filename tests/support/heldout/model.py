"""The portal as data: releases, columns, list widgets, the list endpoints a site answers, and the truth rows.

Everything is drawn once from a seed (:mod:`generate`); pages are rendered from it on request (:mod:`render_article`,
:mod:`render_column`), so the truth and the served bytes come from the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .dates import DateTruth


@dataclass
class Attachment:
    """A file linked from a release page."""

    host: str  # "portal" or "asset" (the object store)
    path: str  # path and query on that host
    name: str  # the link text
    content_type: str
    body: bytes
    inline: bool  # linked inside a body paragraph (else in the 附件 block after the body)

    def url(self, bases: dict[str, str]) -> str:
        return bases[self.host] + self.path


@dataclass
class ArticleStyle:
    """The template choices of one release page (see :mod:`render_article`)."""

    layout: str = "markers-zoom"  # markers-zoom | zoom | markers-div | contentstart-div
    info: str = "line"  # line | bare-span | haikou | english | gk-table | source-date | meta-only
    date_label: str = "发布日期"
    date_form: str = "iso"
    visible: str = "second"  # second | minute | date | none
    pubdate: str = "same"
    meta_precision: str = "second"
    hits: str = "number"  # number | empty-script | script-src | artcount | suffix-empty | none
    hits_label: str = "浏览次数"
    hits_first: bool = False  # the count segment stands right before the date on the same line
    font_bar: bool = True
    source_markup: str = "plain"  # plain | comment | label-jigou
    source_label: str = "来源"
    title_markup: str = "plain"  # plain | nested | entities
    title_block: str = "div"  # div | h1 | td
    title_tag: str = "title-only"  # title-only | three-part | title-site
    article_title_meta: bool = True
    hidden_link_in_body: bool = False
    hidden_location: bool = False
    charset: str = "utf-8"  # utf-8 | gbk
    charset_in_header: bool = True
    crlf: bool = True
    prev_next: bool = True
    bad_image: bool = False  # a malformed <img src> inside the body
    signed_date: bool = False  # gk-table: an earlier 成文日期 next to the 发布日期
    colon: str = "："  # after a label: full-width, ASCII, ASCII and a space
    label_split: bool = False  # label and value in separate elements: <span>发布日期：</span><span>…</span>
    hits_suffix: str = ""  # a unit after a printed count: 次
    source_link: bool = False  # the source is a link to the source's site
    spaced_labels: bool = False  # gk-table labels spaced out: 发 布 日 期


@dataclass
class Release:
    """One release page and everything true about it."""

    column_id: int
    article_id: int
    moment: datetime  # Asia/Shanghai wall time
    title: str
    title_html: str  # the title as the visible markup writes it (tags, entities)
    source: str | None
    hits: int | None
    index_no: str | None
    doc_no: str | None
    paragraphs: list[str]
    language: str
    attachments: list[Attachment]
    style: ArticleStyle
    dates: DateTruth
    signed: datetime | None = None  # 成文日期, earlier than the release (gk-table)
    bad_attachment_hrefs: list[str] = field(default_factory=list)  # malformed or over-long links: not files

    @property
    def path(self) -> str:
        m = self.moment
        return f"/art/{m.year}/{m.month}/{m.day}/art_{self.column_id}_{self.article_id}.html"

    def page_order_attachments(self) -> list[Attachment]:
        """Attachments in the order the page links them: those inside the body, then the 附件 block."""
        return [a for a in self.attachments if a.inline] + [a for a in self.attachments if not a.inline]

    def body_start(self, size: int = 16) -> str:
        return self.paragraphs[0][:size]

    def body_end(self, size: int = 16) -> str:
        return self.paragraphs[-1][-size:]

    def truth(self, bases: dict[str, str]) -> dict[str, Any]:
        """The release's fields, named as docs/schema.md (v1) names them, plus the body's start and end."""
        return {
            "url": bases["portal"] + self.path,
            "column_id": str(self.column_id),
            "title": self.title,
            "release_date": self.dates.date,
            "release_datetime": self.dates.datetime,
            "release_time_precision": self.dates.precision,
            "hits": self.hits,
            "source": self.source,
            "index_no": self.index_no,
            "doc_no": self.doc_no,
            "language": self.language,
            "body_start": self.body_start(),
            "body_end": self.body_end(),
            "attachments": [{"url": a.url(bases), "name": a.name} for a in self.page_order_attachments()],
            "template": {"info": self.style.info, "layout": self.style.layout, "visible": self.style.visible,
                         "pubdate": self.style.pubdate, "hits": self.style.hits, "charset": self.style.charset},
        }


@dataclass
class Unit:
    """One jpage list widget on a column page."""

    unit_id: int
    column_id: int  # the page's column, as the widget's ajaxParam gives it
    role: str  # main | side
    releases: list[Release]  # list order, newest first; a pinned release may repeat
    per_page: int
    group_size: int
    declared_total: int | None  # the page's totalRecord (None: the call has none)
    endpoint_total: int  # what the endpoint's <totalrecord> says
    record_style: str  # li | table | div-abs
    bad_records: dict[int, str] = field(default_factory=dict)  # position -> malformed href of an extra record
    title: str = ""


@dataclass
class Column:
    """A column (栏目) page."""

    column_id: int
    name: str
    kind: str  # list | parent | side-only
    parent: int | None = None
    children: list[int] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)  # page order
    link: str = "nav"  # nav | iframe | redirect | subnav | related | none
    old_id: int | None = None  # link == redirect: the old column id that redirects here
    related: list[int] = field(default_factory=list)  # columns linked from this page's 相关栏目 box

    @property
    def path(self) -> str:
        return f"/col/col{self.column_id}/index.html"


@dataclass
class ListApi:
    """Which list endpoints a site answers and how."""

    proxy_path: str = "/module/web/jpage/dataproxy.jsp"
    ranges: bool = True  # answers startrecord/endrecord/perpage (the jpage POST)
    ranges_broken: bool = False  # declares the jpage call, but the range request answers a non-list page
    pages: bool = True  # answers page=N (the <nextgroup> GET)
    pagenum: bool = False  # the column page pages itself: ?uid=U&pageNum=N
    unanswered: str = "404"  # a request form the site does not answer: 404 | empty
    nextgroup_base: int = 1  # page number the first <nextgroup> of a column page names (0: group index)
    page_unit: str = "page"  # one page=N answer holds a page or a group (group_size pages)
    jpage_style: str = "inline"  # inline | param-var | none
    xml_order: str = "total-first"
    pager_links: bool = True  # pagenum sites: static 下一页 links


@dataclass
class Site:
    """A whole portal drawn from one seed."""

    seed: int
    name: str
    webid: int
    charset: str
    build_time: datetime
    columns: dict[int, Column]
    releases: list[Release]
    api: ListApi
    nav: list[int]  # top-level column ids linked from the home nav bar
    iframes: list[int]  # column ids the home page iframes
    home_latest: list[Release]
    bad_nav_hrefs: list[str] = field(default_factory=list)
    bad_nav_everywhere: bool = False  # the malformed nav links are on every page, not only the home page
    gzip: bool = False
    home_redirect: bool = False
    robots: str = "404"  # 404 | allow
    t_variants: bool = False  # every column page links itself with ?t=<new number> (hostile)
    notes: list[str] = field(default_factory=list)

    def release_by_path(self) -> dict[str, Release]:
        return {r.path: r for r in self.releases}

    def units(self) -> dict[int, Unit]:
        return {u.unit_id: u for c in self.columns.values() for u in c.units}

    def truth(self, bases: dict[str, str]) -> list[dict[str, Any]]:
        return [r.truth(bases) for r in self.releases]
