"""Hanweb URLs (release and column ids), list records, the answers of the jpage ``dataproxy.jsp`` list endpoint,
and the column page as release links, sub-column links and list widgets.

A column page embeds its first page of records in ``<script type="text/xml"><datastore>…`` (invisible to an HTML
parser) and names the list endpoint and its parameters in an inline script; `spiders.list_widgets` reads each list
widget of the page, `spiders.list_walk` pages one widget until its list is exhausted. Every link goes through
`spiders.links.absolute_url`: a malformed one is counted and skipped, never costing its neighbours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from pipelines.html_parser import HTML_PARSER, fragment_root
from spiders.links import absolute_url, is_fetchable_href

if TYPE_CHECKING:
    from spiders.list_widgets import ListWidget

ARTICLE_PATH = re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_(\d+)_(\d+)\.html?", re.IGNORECASE)
COLUMN_PATH = re.compile(r"/col/col(\d+)/(?:index\.html?)?$", re.IGNORECASE)

_RECORD_CDATA = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.DOTALL)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[\s*<a\s+href=[\"']([^\"']+)[\"']", re.IGNORECASE)
_TOTAL_RECORD = re.compile(r"""totalRecord['"]?\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)
_TOTAL_RECORD_XML = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_NEXTGROUP_A = re.compile(r"<a\s+href=[\"']([^\"']+)[\"']", re.IGNORECASE)


@dataclass(frozen=True)
class ListRecord:
    """One release link found in a list: absolute URL, the title the list gives, and the list's date text."""

    url: str
    title: str | None
    date_text: str | None


@dataclass
class ColumnListing:
    """What a column page tells: its release links, its sub-column links and its list widgets to walk."""

    column_id: str | None
    column_name: str | None
    records: list[ListRecord] = field(default_factory=list)
    column_links: list[str] = field(default_factory=list)
    widgets: list[ListWidget] = field(default_factory=list)
    malformed: int = 0  # links of the page that could not be made a URL (stat ``links/malformed``)
    total_records: int | None = None


@lru_cache(maxsize=4096)  # a release's URL is asked about by the spider, the item, the ledger and the state
def article_ids(url: str) -> tuple[str, str] | None:
    """``(column id, article id)`` of a Hanweb release URL, or None for any other URL."""
    match = ARTICLE_PATH.search(urlsplit(url).path)
    return (match.group(1), match.group(2)) if match else None


_TRS_DOC = re.compile(r"/t\d{8}_(\d+)\.s?html?$", re.IGNORECASE)
_ID_PARAM = re.compile(r"(?:^|&)(?:articleid|article_id|artid|infoid|id)=(\d+)(?:&|$)", re.IGNORECASE)
_TRAILING_NUMBER = re.compile(r"(\d{3,})(?:\.[a-z]+)?$", re.IGNORECASE)


def release_number(url: str) -> str | None:
    """The article id that names a release: Hanweb's ``art_C_A.html``, else a TRS ``tYYYYMMDD_N`` page, an
    ``id=``-style query parameter, or the number ending the URL's last path segment."""
    ids = article_ids(url)
    if ids:
        return ids[1]
    parts = urlsplit(url)
    for pattern, text in ((_TRS_DOC, parts.path), (_ID_PARAM, parts.query),
                          (_TRAILING_NUMBER, parts.path.rsplit("/", 1)[-1])):
        match = pattern.search(text)
        if match:
            return match.group(1)
    return None


def release_key(url: str) -> str | None:
    """What names a release within its portal (``release_id`` is ``{portal}:{key}``; docs/schema.md, "Identity").

    Hanweb's ``/art/Y/M/D/art_{column}_{article}.html`` is ``{column}_{article}``: the same article id can stand
    under two columns with different content, and a re-dated article keeps the pair (the date path is no part of
    it). Any other URL shape is its `release_number`.
    """
    ids = article_ids(url)
    if ids:
        return f"{ids[0]}_{ids[1]}"
    return release_number(url)


_GENERATOR = re.compile(r"""<meta\b[^>]*name=["']?generator["']?[^>]*>""", re.IGNORECASE)
_HANWEB_MARKS = re.compile(r"大汉|hanweb|/module/(?:web/)?jpage/|dataproxy\.jsp|/col/col\d+/|/art/\d{4}/\d{1,2}/",
                           re.IGNORECASE)


def declared_total(html: str) -> int | None:
    """The largest ``totalRecord`` a column page declares over its list widgets (None when it declares none)."""
    totals = [int(m.group(1)) for m in _TOTAL_RECORD.finditer(html)]
    totals += [int(m.group(1)) for m in _TOTAL_RECORD_XML.finditer(html)]
    return max(totals) if totals else None


def looks_like_hanweb(html: str) -> bool:
    """True when a page carries a Hanweb generator meta or the CMS's marks (jpage, /col/colN/, /art/Y/M/D/ links)."""
    generator = _GENERATOR.search(html)
    if generator and re.search(r"大汉|hanweb|jcms", generator.group(0), re.IGNORECASE):
        return True
    return bool(_HANWEB_MARKS.search(html))


def column_id_of(url: str) -> str | None:
    """The column id of a ``/col/colN/index.html`` URL, or None."""
    match = COLUMN_PATH.search(urlsplit(url).path)
    return match.group(1) if match else None


def scan_records(fragments: list[str], base_url: str) -> tuple[list[ListRecord], int]:
    """Release links of ``<record>`` CDATA fragments, resolved against the *page* URL, and how many record links
    could not be made a URL (skipped; the caller counts them in ``links/malformed``; their neighbours stay)."""
    records: list[ListRecord] = []
    malformed = 0
    for fragment in fragments:
        if not fragment.strip():
            continue
        try:
            tree = fragment_root(fragment)
        except (etree.ParserError, ValueError):
            continue
        date_text = None
        for span in tree.iter("span", "td", "em", "i", "b"):
            text = (span.text_content() or "").strip()
            if re.search(r"\d{4}[-/.年]\d{1,2}", text):
                date_text = text
        for anchor in tree.iter("a"):
            href = anchor.get("href") or ""
            if not is_fetchable_href(href):
                continue
            url = absolute_url(base_url, href)
            if url is None:
                malformed += 1
                continue
            if article_ids(url) is None:
                continue
            title = anchor.get("title") or anchor.text_content()
            records.append(ListRecord(url=url, title=" ".join(title.split()) or None, date_text=date_text))
            break
    return records, malformed


def records_from_fragments(fragments: list[str], base_url: str) -> list[ListRecord]:
    """`scan_records` without the count of malformed links."""
    return scan_records(fragments, base_url)[0]


@dataclass(frozen=True)
class ListAnswer:
    """What one list-endpoint answer says: is it a list at all, its records, its own total and next page."""

    is_list: bool
    records: list[ListRecord]
    total: int | None
    nextgroup: str | None = None  # as written (relative to the page), None when the answer names none
    malformed: int = 0
    fragments: int = 0  # records in the answer, malformed or not


_LIST_MARK = re.compile(rb"<(?:datastore|recordset|record)\b", re.IGNORECASE)


def parse_list_answer(body: bytes, base_url: str) -> ListAnswer:
    """A dataproxy answer parsed from bytes with entities, DTDs and network off; an HTML error page or any other
    answer without a ``<datastore>``/``<recordset>`` is no list (``is_list`` False)."""
    if not _LIST_MARK.search(body[:65536]) and not _LIST_MARK.search(body):
        return ListAnswer(False, [], None)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             recover=False)
    fragments: list[str]
    total: int | None = None
    nextgroup: str | None = None
    try:
        root = etree.fromstring(body, parser=parser)
        fragments = [rec.text or "" for rec in root.iter("record")]
        total_el = root.find(".//totalrecord")
        total_text = (total_el.text or "").strip() if total_el is not None else ""
        if total_text.isdigit():
            total = int(total_text)
        next_el = root.find(".//nextgroup")
        if next_el is not None and next_el.text:
            match = _NEXTGROUP_A.search(next_el.text)
            nextgroup = match.group(1).replace("&amp;", "&") if match else None
    except etree.XMLSyntaxError:
        # Broken XML (control characters, a stray "]]>"): fall back to the CDATA sections themselves.
        text = body.decode("utf-8", errors="replace")
        fragments = _RECORD_CDATA.findall(text)
        match = _TOTAL_RECORD_XML.search(text)
        total = int(match.group(1)) if match else None
        found = _NEXTGROUP.search(text)
        nextgroup = found.group(1).replace("&amp;", "&") if found else None
    records, malformed = scan_records(fragments, base_url)
    return ListAnswer(True, records, total, nextgroup, malformed, len([f for f in fragments if f.strip()]))


def parse_dataproxy(body: bytes, base_url: str) -> tuple[list[ListRecord], int | None]:
    """Records and ``totalrecord`` of a dataproxy answer (`parse_list_answer`)."""
    answer = parse_list_answer(body, base_url)
    return answer.records, answer.total


def page_links(tree: lxml_html.HtmlElement, page_url: str) -> tuple[list[tuple[str, lxml_html.HtmlElement]], int]:
    """Every ``<a href>``, ``<iframe src>``, ``<frame src>`` of a page as an absolute URL with its element, and how
    many could not be made a URL (skipped: one malformed link never costs its neighbours)."""
    found: list[tuple[str, lxml_html.HtmlElement]] = []
    malformed = 0
    for element in tree.iter("a", "iframe", "frame", "IFRAME", "FRAME"):
        href = element.get("href") if str(element.tag).lower() == "a" else element.get("src")
        if href is None or not is_fetchable_href(href):
            continue
        url = absolute_url(page_url, href)
        if url is None:
            malformed += 1
            continue
        found.append((url, element))
    return found, malformed


def parse_column_page(html: str, page_url: str) -> ColumnListing:
    """Everything the crawl needs from one column page: release links, sub-columns, and its list widgets."""
    column_id = column_id_of(page_url)
    column_links: list[str] = []
    column_name = None
    links: list[tuple[str, lxml_html.HtmlElement]] = []
    malformed = 0
    try:
        tree = lxml_html.document_fromstring(html, parser=HTML_PARSER)
    except (etree.ParserError, ValueError):
        tree = None
    if tree is not None:
        column_name = column_name_of(tree)
        links, malformed = page_links(tree, page_url)
    from spiders.list_widgets import parse_widgets  # the widget parser builds on this module's record parsing

    scan = parse_widgets(html, page_url, [url for url, _ in links])
    records = [record for widget in scan.widgets for record in widget.records]
    seen = {record.url for record in records}
    for url, element in links:
        if article_ids(url):
            if url not in seen:
                title = element.get("title") or element.text_content()
                records.append(ListRecord(url=url, title=" ".join(title.split()) or None, date_text=None))
                seen.add(url)
        elif column_id_of(url) and url not in column_links:
            column_links.append(url)
    return ColumnListing(column_id=column_id, column_name=column_name, records=records,
                         column_links=column_links, widgets=scan.widgets, malformed=malformed + scan.malformed,
                         total_records=declared_total(html))


def column_name_of(tree: lxml_html.HtmlElement) -> str | None:
    """A column page's name: its ColumnName meta, else the last part of its ``<title>``."""
    for meta in tree.iter("meta"):
        content = (meta.get("content") or "").strip()
        if (meta.get("name") or "").lower() == "columnname" and content:
            return content
    title = tree.findtext(".//title")
    if title:
        parts = [p.strip() for p in re.split(r"\s*[-_|–—>]\s*", title) if p.strip()]
        if parts:
            return parts[-1] if len(parts) > 1 else parts[0]
    return None
