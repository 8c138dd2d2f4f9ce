"""A Hanweb column page as its list widgets: what a browser finds on the page to page each list.

A column page can hold several list widgets (a side list of a few items before or after the main list), each a
jpage *unit* with its own id. A widget shows itself in up to three ways, all read here:

- the embedded first group, ``<div id="U"><script type="text/xml"><datastore>…<record><![CDATA[<li>…]]></record>``,
  with a ``<nextgroup>`` link to the GET form of the list endpoint (``dataproxy.jsp?page=N&…``);
- the jpage call a browser runs, ``$('#U').jpage({proxyUrl, perPage, groupSize, totalRecord, ajaxParam:{…}})``
  (``ajaxParam`` inline or a ``var param_U = {…}`` it names), answered by a POST of ``startrecord/endrecord/perpage``
  with the ajaxParam form;
- on newer sites, a static pager on the column page itself, ``?uid=U&pageNum=N``.

Nothing here fetches or plans pages: `spiders.list_walk` walks one widget a request at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from spiders.hanweb_lists import ListRecord, scan_records
from spiders.links import absolute_url

DEFAULT_PER_PAGE = 15
DEFAULT_GROUP_SIZE = 3
#: The form fields Hanweb's jpage sends with a record-range POST, in the order the CMS sends them.
POST_FORM_KEYS = ("col", "appid", "webid", "path", "columnid", "sourceContentType", "unitid", "webname",
                  "permissiontype")

_DATASTORE = re.compile(r"<datastore\b.*?</datastore>", re.IGNORECASE | re.DOTALL)
_RECORD_CDATA = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.IGNORECASE | re.DOTALL)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[\s*<a\s+href=[\"']([^\"']+)[\"']", re.IGNORECASE)
_ID_BEFORE = re.compile(r"""\bid\s*=\s*["']?([\w-]+)["']?[^<>]*>\s*(?:<script\b[^>]*>\s*)?$""", re.IGNORECASE)
_JPAGE_CALL = re.compile(r"""(?:\$|jQuery)\(\s*['"]#([\w-]+)['"]\s*\)\s*\.jpage\(\s*\{""", re.IGNORECASE)
_JS_PAIR = re.compile(r"""['"]?(\w+)['"]?\s*:\s*(?:'([^']*)'|"([^"]*)"|([^,}\s]+))""")
_NUMBER_OF = {name: re.compile(rf"""\b{name}['"]?\s*[:=]\s*['"]?(\d+)""", re.IGNORECASE)
              for name in ("perPage", "groupSize", "totalRecord")}
_PROXY_URL = re.compile(r"""\bproxyUrl['"]?\s*[:=]\s*['"]([^'"]+)['"]""", re.IGNORECASE)
_AJAX_INLINE = re.compile(r"""\bajaxParam['"]?\s*:\s*\{""", re.IGNORECASE)
_AJAX_NAME = re.compile(r"""\bajaxParam['"]?\s*:\s*([A-Za-z_$][\w$]*)""", re.IGNORECASE)
#: How far before a datastore its widget's ``id="U"`` may stand.
_ID_WINDOW = 300


@dataclass(frozen=True)
class ListWidget:
    """One list widget of a column page, with everything a browser uses to page it."""

    unit_id: str | None
    records: tuple[ListRecord, ...] = ()  # the embedded first group's release links
    embedded: int = 0  # how many records the page embeds (malformed ones included: the endpoint counts them)
    nextgroup: str | None = None  # the GET form's next page, absolute
    jpage: bool = False  # the page runs a jpage call for this unit (a browser then POSTs record ranges)
    proxy_url: str | None = None  # the list endpoint, absolute (jpage proxyUrl, else the nextgroup's path)
    per_page: int = DEFAULT_PER_PAGE
    group_size: int = DEFAULT_GROUP_SIZE
    total: int | None = None  # the page's totalRecord for this unit (often stale)
    form: tuple[tuple[str, str], ...] = ()  # the ajaxParam form of the POST
    pagenum: bool = False  # the column page pages this unit itself: ?uid=U&pageNum=N

    @property
    def key(self) -> str:
        """What names the widget within its column (its unit id, else its endpoint)."""
        return self.unit_id or self.nextgroup or self.proxy_url or "?"


@dataclass
class WidgetScan:
    """The widgets of a page and how many of their links could not be made a URL (stat ``links/malformed``)."""

    widgets: list[ListWidget] = field(default_factory=list)
    malformed: int = 0


def js_object(text: str) -> dict[str, str]:
    """``{key: value}`` of a flat JavaScript object literal's body (quoted or bare values)."""
    return {m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in _JS_PAIR.finditer(text)}


def _braced(text: str, start: int) -> str:
    """The body of the ``{…}`` whose ``{`` is at ``start`` (quotes respected; to the end when unbalanced)."""
    depth, quote, index = 0, "", start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:index]
        index += 1
    return text[start + 1:]


def _number(name: str, text: str) -> int | None:
    match = _NUMBER_OF[name].search(text)
    return int(match.group(1)) if match else None


@dataclass
class _Call:
    per_page: int | None
    group_size: int | None
    total: int | None
    proxy: str | None
    form: dict[str, str]


def _jpage_calls(html: str) -> dict[str, _Call]:
    """Each jpage call of the page by unit id."""
    calls: dict[str, _Call] = {}
    for match in _JPAGE_CALL.finditer(html):
        body = _braced(html, match.end() - 1)
        form: dict[str, str] = {}
        inline = _AJAX_INLINE.search(body)
        if inline:
            inner = _braced(body, inline.end() - 1)
            form = js_object(inner)
            outer = body[:inline.start()] + body[inline.end() + len(inner) + 1:]
        else:
            outer = body
            named = _AJAX_NAME.search(body)
            if named:
                declared = re.search(r"\b" + re.escape(named.group(1)) + r"\s*=\s*\{", html)
                if declared:
                    form = js_object(_braced(html, declared.end() - 1))
        proxy = _PROXY_URL.search(outer)
        calls.setdefault(match.group(1), _Call(_number("perPage", outer), _number("groupSize", outer),
                                               _number("totalRecord", outer), proxy.group(1) if proxy else None,
                                               form))
    return calls


def _unit_before(html: str, position: int) -> str | None:
    match = _ID_BEFORE.search(html[max(0, position - _ID_WINDOW):position])
    return match.group(1) if match else None


def pagenum_units(links: list[str]) -> list[str]:
    """Unit ids the column page pages itself (links with ``uid=U`` and ``pageNum=N``), in page order."""
    units: list[str] = []
    for link in links:
        params = {k.lower(): v for k, v in parse_qsl(urlsplit(link).query)}
        uid = params.get("uid")
        if uid and "pagenum" in params and uid not in units:
            units.append(uid)
    return units


def parse_widgets(html: str, page_url: str, links: list[str] | None = None) -> WidgetScan:
    """Every list widget of a column page, in page order (``links``: the page's absolute links, for pagers)."""
    scan = WidgetScan()
    calls = _jpage_calls(html)
    order: list[str | None] = []
    stores: dict[str | None, tuple[list[str], str | None]] = {}
    for match in _DATASTORE.finditer(html):
        unit = _unit_before(html, match.start())
        fragments = _RECORD_CDATA.findall(match.group(0))
        found = _NEXTGROUP.search(match.group(0))
        href = found.group(1).replace("&amp;", "&") if found else None
        if unit is None and href:
            unit = {k.lower(): v for k, v in parse_qsl(urlsplit(href).query)}.get("unitid")
        if unit in stores:
            continue
        stores[unit] = (fragments, href)
        order.append(unit)
    order += [unit for unit in calls if unit not in stores]
    order += [unit for unit in pagenum_units(links or []) if unit not in order]
    lone = len(order) == 1  # one widget: the page's loose perPage/proxyUrl/totalRecord are its own
    for unit in order:
        fragments, href = stores.get(unit, ([], None))
        records, malformed = scan_records(fragments, page_url)
        scan.malformed += malformed
        nextgroup = absolute_url(page_url, href) if href else None
        if href and nextgroup is None:
            scan.malformed += 1
        call = calls.get(unit) if unit is not None else None
        loose = html if lone and call is None else ""
        loose_proxy = _PROXY_URL.search(loose)
        proxy_href = call.proxy if call and call.proxy else (loose_proxy.group(1) if loose_proxy else None)
        proxy = absolute_url(page_url, proxy_href) if proxy_href else None
        if proxy is None and nextgroup:
            proxy = nextgroup.split("?", 1)[0]
        form = dict(call.form) if call else {}
        if not form and nextgroup:  # the GET link carries the same fields as the POST form
            form = {k: v for k, v in parse_qsl(urlsplit(nextgroup).query, keep_blank_values=True) if k != "page"}
        ordered = [(k, form[k]) for k in POST_FORM_KEYS if k in form]
        ordered += [(k, v) for k, v in form.items() if k not in POST_FORM_KEYS]
        per_page = (call.per_page if call else None) or _number("perPage", loose) or DEFAULT_PER_PAGE
        group = (call.group_size if call else None) or _number("groupSize", loose) or DEFAULT_GROUP_SIZE
        total = call.total if call and call.total is not None else _number("totalRecord", loose)
        scan.widgets.append(ListWidget(
            unit_id=unit, records=tuple(records), embedded=len(fragments), nextgroup=nextgroup,
            jpage=call is not None and proxy is not None, proxy_url=proxy, per_page=max(per_page, 1),
            group_size=max(group, 1), total=total, form=tuple(ordered),
            pagenum=unit is not None and unit in pagenum_units(links or [])))
    return scan
