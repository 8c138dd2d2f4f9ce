"""Parsing of Hanweb column (list) pages and of the jpage ``dataproxy.jsp`` list endpoint.

A column page embeds its first page of records in ``<script type="text/xml"><datastore>…`` (invisible to an HTML
parser) and names the list endpoint and its parameters in an inline script. Later pages come from the endpoint,
either as ``GET …?page=N`` or as ``POST …?startrecord=A&endrecord=B&perpage=P`` with a form body.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html

ARTICLE_PATH = re.compile(r"/art/\d{4}/\d{1,2}/\d{1,2}/art_(\d+)_(\d+)\.html?", re.IGNORECASE)
COLUMN_PATH = re.compile(r"/col/col(\d+)/(?:index\.html?)?$", re.IGNORECASE)

_DATASTORE = re.compile(r"<datastore\b.*?</datastore>", re.IGNORECASE | re.DOTALL)
_RECORD_CDATA = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.DOTALL)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[\s*<a\s+href=[\"']([^\"']+)[\"']", re.IGNORECASE)
_TOTAL_RECORD = re.compile(r"""totalRecord['"]?\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)
_TOTAL_RECORD_XML = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.IGNORECASE)
_PER_PAGE = re.compile(r"""perPage['"]?\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)
_GROUP_SIZE = re.compile(r"""groupSize['"]?\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)
_PROXY_URL = re.compile(r"""proxyUrl['"]?\s*[:=]\s*['"]([^'"]+)['"]""", re.IGNORECASE)
_AJAX_PARAM = re.compile(r"ajaxParam\s*[:=]\s*\{(.*?)\}", re.IGNORECASE | re.DOTALL)
_JS_PAIR = re.compile(r"""['"]?(\w+)['"]?\s*:\s*(?:'([^']*)'|"([^"]*)"|([^,}\s]+))""")

DEFAULT_PER_PAGE = 15
DEFAULT_GROUP_SIZE = 3
DEFAULT_PROXY_PATH = "/module/web/jpage/dataproxy.jsp"
#: The form fields Hanweb's jpage sends with a record-range POST, in the order the CMS sends them.
POST_FORM_KEYS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                  "permissiontype")


@dataclass(frozen=True)
class ListRecord:
    """One release link found in a list: absolute URL, the title the list gives, and the list's date text."""

    url: str
    title: str | None
    date_text: str | None


@dataclass(frozen=True)
class ListRequest:
    """A further list page to fetch: GET when ``body`` is None, else a form POST."""

    url: str
    body: str | None = None


@dataclass
class ColumnListing:
    """What a column page tells: its records, its sub-column links and the list pages still to fetch."""

    column_id: str | None
    column_name: str | None
    records: list[ListRecord] = field(default_factory=list)
    column_links: list[str] = field(default_factory=list)
    next_requests: list[ListRequest] = field(default_factory=list)
    total_records: int | None = None


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


def records_from_fragments(fragments: list[str], base_url: str) -> list[ListRecord]:
    """Parse the HTML fragments of ``<record>`` CDATA sections; links resolve against the *page* URL."""
    records: list[ListRecord] = []
    for fragment in fragments:
        if not fragment.strip():
            continue
        try:
            tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
        except (etree.ParserError, ValueError):
            continue
        date_text = None
        for span in tree.iter("span", "td", "em", "i"):
            text = (span.text_content() or "").strip()
            if re.search(r"\d{4}[-/.年]\d{1,2}", text):
                date_text = text
        for anchor in tree.iter("a"):
            href = (anchor.get("href") or "").strip()
            if not href or href.startswith(("javascript:", "#")):
                continue
            url = urljoin(base_url, href)
            if article_ids(url) is None:
                continue
            title = anchor.get("title") or anchor.text_content()
            records.append(ListRecord(url=url, title=" ".join(title.split()) or None, date_text=date_text))
            break
    return records


def parse_dataproxy(body: bytes, base_url: str) -> tuple[list[ListRecord], int | None]:
    """Records and ``totalrecord`` of a dataproxy answer, parsed from bytes with entities, DTDs and network off."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             recover=False)
    fragments: list[str]
    total: int | None = None
    try:
        root = etree.fromstring(body, parser=parser)
        fragments = [rec.text or "" for rec in root.iter("record")]
        total_el = root.find(".//totalrecord")
        total_text = (total_el.text or "").strip() if total_el is not None else ""
        if total_text.isdigit():
            total = int(total_text)
    except etree.XMLSyntaxError:
        # Broken XML (control characters, a stray "]]>"): fall back to the CDATA sections themselves.
        text = body.decode("utf-8", errors="replace")
        fragments = _RECORD_CDATA.findall(text)
        match = _TOTAL_RECORD_XML.search(text)
        total = int(match.group(1)) if match else None
    return records_from_fragments(fragments, base_url), total


def _js_object(text: str) -> dict[str, str]:
    return {m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in _JS_PAIR.finditer(text)}


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(params), ""))


def plan_list_requests(page_url: str, html: str, embedded_count: int) -> tuple[list[ListRequest], int | None]:
    """The dataproxy requests that fetch the records a column page does not embed."""
    total_match = _TOTAL_RECORD.search(html) or _TOTAL_RECORD_XML.search(html)
    total = int(total_match.group(1)) if total_match else None
    per_page = int(m.group(1)) if (m := _PER_PAGE.search(html)) else DEFAULT_PER_PAGE
    group = int(m.group(1)) if (m := _GROUP_SIZE.search(html)) else DEFAULT_GROUP_SIZE
    per_page = max(per_page, 1)
    next_match = _NEXTGROUP.search(html)
    proxy_match = _PROXY_URL.search(html)
    if total is None or total <= embedded_count:
        return [], total
    next_href = next_match.group(1).replace("&amp;", "&") if next_match else ""
    if next_href and "page" in dict(parse_qsl(urlsplit(next_href).query)):
        base = urljoin(page_url, next_href)
        params = [(k, v) for k, v in parse_qsl(urlsplit(base).query, keep_blank_values=True) if k != "page"]
        first = embedded_count // per_page + 1
        last = math.ceil(total / per_page)
        return [ListRequest(_with_query(base, [("page", str(n)), *params])) for n in range(first, last + 1)], total
    proxy_path = proxy_match.group(1) if proxy_match else None
    if proxy_path is None and next_href:
        proxy_path = urlsplit(next_href).path
    proxy = urljoin(page_url, proxy_path or DEFAULT_PROXY_PATH)
    ajax = _js_object(m.group(1)) if (m := _AJAX_PARAM.search(html)) else {}
    form = [(key, ajax[key]) for key in POST_FORM_KEYS if key in ajax]
    form += [(key, value) for key, value in ajax.items() if key not in POST_FORM_KEYS]
    body = urlencode(form)
    step = per_page * max(group, 1)
    requests = []
    for start in range(embedded_count + 1, total + 1, step):
        end = min(start + step - 1, total)
        query = [("startrecord", str(start)), ("endrecord", str(end)), ("perpage", str(per_page))]
        requests.append(ListRequest(_with_query(proxy, query), body=body))
    return requests, total


def parse_column_page(html: str, page_url: str) -> ColumnListing:
    """Everything the crawl needs from one column page: records, sub-columns and the further list requests."""
    column_id = column_id_of(page_url)
    fragments: list[str] = []
    for datastore in _DATASTORE.findall(html):
        fragments.extend(_RECORD_CDATA.findall(datastore))
    records = records_from_fragments(fragments, page_url)
    seen = {record.url for record in records}
    column_links: list[str] = []
    column_name = None
    try:
        tree = lxml_html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        tree = None
    if tree is not None:
        column_name = column_name_of(tree)
        for element, _attr, link, _pos in tree.iterlinks():
            if element.tag not in ("a", "iframe", "frame"):
                continue
            url = urljoin(page_url, link.strip())
            if article_ids(url) and url not in seen:
                title = element.get("title") or element.text_content()
                records.append(ListRecord(url=url, title=" ".join(title.split()) or None, date_text=None))
                seen.add(url)
            elif column_id_of(url) and url not in column_links:
                column_links.append(url)
    next_requests, total = plan_list_requests(page_url, html, len(fragments))
    return ColumnListing(column_id=column_id, column_name=column_name, records=records,
                         column_links=column_links, next_requests=next_requests, total_records=total)


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
