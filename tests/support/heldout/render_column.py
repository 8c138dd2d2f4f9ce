"""Home and column pages: nav, sub-columns, iframes, and each list widget with its embedded first page.

A jpage widget embeds its first group in ``<script type="text/xml"><datastore>`` and, as the site's :class:`ListApi`
says, a ``<nextgroup>`` link and/or the ``$('#U').jpage({...})`` call. On ``pagenum`` sites a widget is a plain
list with a static pager (``?uid=U&pageNum=N``). The list endpoints themselves are in :mod:`dataproxy`.
"""

from __future__ import annotations

import math
from html import escape
from urllib.parse import quote

from .model import Column, Release, Site, Unit
from .render_common import footer, head, nav_bar, tail, visit_iframe

Entry = Release | str  # a release, or the malformed href of a broken record


def entries(unit: Unit) -> list[Entry]:
    """The unit's served records in order: its releases with its malformed records inserted."""
    out: list[Entry] = list(unit.releases)
    for position in sorted(unit.bad_records, reverse=True):
        out.insert(position, unit.bad_records[position])
    return out


def record_html(entry: Entry, unit: Unit, bases: dict[str, str]) -> str:
    """One list record, in the unit's record style (titles cut short in the text, whole in ``title=``)."""
    if isinstance(entry, str):
        return f'<li><a href="{escape(entry)}" title="链接">链接</a><span>2020-01-01</span></li>'
    title = escape(entry.title, quote=True)
    short = escape(entry.title if len(entry.title) <= 18 else entry.title[:16] + "...")
    m = entry.moment
    if unit.record_style == "table":
        return (f"<table width='100%' border='0' cellspacing='0' cellpadding='0'><tr><td width='85%'>"
                f"<a href='{entry.path}' title='{title}' target='_blank'>{short}</a></td>"
                f"<td class='bt_time'>[{m:%m-%d}]</td></tr></table>")
    if unit.record_style == "div-abs":
        return (f'<div class="list_item"><a href="{bases["portal"]}{entry.path}" target="_blank">{escape(entry.title)}'
                f"</a><b>{m.year}/{m.month}/{m.day}</b></div>")
    return f'<li><a href="{entry.path}" title="{title}" target="_blank">{short}</a><span>{m:%Y-%m-%d}</span></li>'


def proxy_query(site: Site, unit: Unit, page: int, encode_name: bool) -> str:
    """The query of a ``page=N`` link, as Hanweb writes it in ``<nextgroup>``."""
    webname = quote(site.name) if encode_name else site.name
    return (f"page={page}&appid=1&webid={site.webid}&path=/&columnid={unit.column_id}&unitid={unit.unit_id}"
            f"&webname={webname}&permissiontype=0")


def group_size_records(unit: Unit) -> int:
    return unit.per_page * unit.group_size


def first_nextgroup_page(site: Site, unit: Unit) -> int:
    """The page number the embedded datastore's <nextgroup> names (what follows the embedded group)."""
    step = unit.group_size if site.api.page_unit == "page" else 1
    return site.api.nextgroup_base + step


def datastore(records: list[str], nextgroup: str | None) -> str:
    """The embedded ``<datastore>`` of a widget."""
    parts = ["<datastore>"]
    if nextgroup:
        parts.append(f'<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup>')
    parts.append("<recordset>")
    parts += [f"<record><![CDATA[\n{r}\n]]></record>" for r in records]
    parts.append("</recordset>\n</datastore>")
    return "\n".join(parts)


def jpage_call(site: Site, unit: Unit) -> str:
    """The jpage call a browser runs: proxyUrl, perPage, totalRecord (if any) and the ajaxParam form."""
    api = site.api
    total = f"totalRecord:{unit.declared_total}," if unit.declared_total is not None else ""
    form = (f"col:1,appid:'1',webid:{site.webid},path:'/',columnid:{unit.column_id},sourceContentType:1,"
            f"unitid:'{unit.unit_id}',webname:'{site.name}',permissiontype:0")
    if api.jpage_style == "param-var":
        return (f"<script>var param_{unit.unit_id}={{{form}}};\n$(function(){{ $('#{unit.unit_id}').jpage({{ "
                f'dataStore: null, perPage: {unit.per_page}, groupSize: {unit.group_size}, {total} '
                f'proxyUrl: "{api.proxy_path}", ajaxParam: param_{unit.unit_id} }}); }});</script>')
    return (f"<script>$(function(){{$('#{unit.unit_id}').jpage({{themeName:'default',showMode:'full',{total}"
            f"dataBefore:'<ul class=\"list\">',dataAfter:'</ul>',groupSize:{unit.group_size},"
            f"proxyUrl:'{api.proxy_path}',"
            f"perPage:{unit.per_page},barPosition:'bottom',ajaxParam:{{{form}}}}});}});</script>")


def _jpage_widget(site: Site, unit: Unit, bases: dict[str, str]) -> list[str]:
    served = entries(unit)
    first = [record_html(e, unit, bases) for e in served[: group_size_records(unit)]]
    nextgroup = None
    if site.api.pages:
        encode = unit.unit_id % 2 == 0
        nextgroup = f"{site.api.proxy_path}?{proxy_query(site, unit, first_nextgroup_page(site, unit), encode)}"
    lines = [f'<div class="{unit.role}_list"><div class="hd">{escape(unit.title)}</div>',
             f'<div id="{unit.unit_id}"><script type="text/xml">{datastore(first, nextgroup)}</script></div>']
    if site.api.jpage_style != "none":
        lines.append(jpage_call(site, unit))
    lines.append("</div>")
    return lines


def _pagenum_widget(site: Site, column: Column, unit: Unit, page: int, bases: dict[str, str]) -> list[str]:
    served = entries(unit)
    chunk = served[(page - 1) * unit.per_page: page * unit.per_page]
    records = [record_html(e, unit, bases) for e in chunk]
    declared = unit.declared_total if unit.declared_total is not None else len(served)
    last = max(1, math.ceil(declared / unit.per_page))
    prefix = "" if unit.unit_id % 2 else column.path

    def link(n: int, label: str) -> str:
        return f'<a href="{prefix}?uid={unit.unit_id}&pageNum={n}">{label}</a>'

    pager = [f"共{declared}条 第{page}/{last}页", link(1, "首页")]
    if page > 1:
        pager.append(link(page - 1, "上一页"))
    if chunk and site.api.pager_links:
        pager.append(link(page + 1, "下一页"))
    pager.append(link(last, "尾页"))
    return [f'<div class="{unit.role}_list"><div class="hd">{escape(unit.title)}</div>',
            f'<div id="{unit.unit_id}"><ul class="list">', *records, "</ul></div>",
            '<div class="pages">' + " ".join(pager) + "</div>", "</div>"]


def column_page(site: Site, column: Column, bases: dict[str, str], uid: int | None, page_num: int,
                variant: int) -> bytes:
    """A column page; ``uid``/``page_num`` page one widget on pagenum sites (others ignore the query)."""
    lines = head(site, f"{escape(site.name)} {escape(column.name)}", site.charset,
                 [f'<meta name="ColumnName" content="{escape(column.name)}">',
                  '<meta name="ColumnType" content="信息列表">'])
    crumbs = ['<a href="/index.html">首页</a>']
    if column.parent is not None:
        parent = site.columns[column.parent]
        crumbs.append(f'<a href="{parent.path}">{escape(parent.name)}</a>')
    crumbs.append(f'<a href="{column.path}">{escape(column.name)}</a>')
    lines += ["<body>", nav_bar(site), '<div class="position">当前位置：' + " &gt; ".join(crumbs) + "</div>"]
    siblings = column.children or (site.columns[column.parent].children if column.parent is not None else [])
    if siblings:
        sub = "".join(f'<li><a href="{site.columns[c].path}">{escape(site.columns[c].name)}</a></li>' for c in siblings)
        lines.append(f'<div class="left"><div class="lm_name">{escape(column.name)}</div><ul class="subnav">{sub}</ul>'
                     "</div>")
    if column.related:
        links = "".join(f'<a href="{site.columns[c].path}">{escape(site.columns[c].name)}</a> ' for c in column.related)
        lines.append(f'<div class="related">相关栏目：{links}</div>')
    lines.append('<div class="right">')
    for unit in column.units:
        if site.api.pagenum:
            lines += _pagenum_widget(site, column, unit, page_num if uid == unit.unit_id else 1, bases)
        else:
            lines += _jpage_widget(site, unit, bases)
    if column.kind == "parent" and not column.units:
        lines.append('<div class="lm_intro">本栏目下设子栏目，请从左侧导航进入。</div>')
    lines.append("</div>")
    if site.t_variants:
        lines.append(f'<div class="refresh"><a href="{column.path}?t={variant}">刷新</a></div>')
    lines += [*footer(site), visit_iframe(2, site, column.column_id), *tail()]
    return "\r\n".join(lines).encode(site.charset)


def home_page(site: Site, bases: dict[str, str]) -> bytes:
    """The home page: nav bar, iframed column blocks, a latest-releases block with 更多 links."""
    lines = head(site, escape(site.name), site.charset, ['<meta name="ColumnName" content="首页">'])
    lines += ["<body>", f'<div class="top"><img src="/images/{site.webid}/logo.png"></div>', nav_bar(site, home=True)]
    for column_id in site.iframes:
        lines.append(f'<div class="block"><IFRAME src="{site.columns[column_id].path}" frameBorder=0 marginwidth=0 '
                     'marginheight=0 scrolling=no style="width:100% ; height:405px;" ALLOWTRANSPARENCY="true">'
                     "</IFRAME></div>")
    latest = "".join(f'<li><a href="{r.path}" title="{escape(r.title, quote=True)}" target="_blank">'
                     f"{escape(r.title[:16])}</a><span>{r.moment:%m-%d}</span></li>" for r in site.home_latest)
    more = site.nav[-1] if site.nav else None
    more_link = f'<a href="{site.columns[more].path}">更多&gt;&gt;</a>' if more is not None else ""
    lines.append(f'<div class="block"><div class="hd"><span>最新动态</span>{more_link}</div><ul>{latest}</ul></div>')
    lines += [*footer(site), visit_iframe(1, site, next(iter(site.columns))), *tail()]
    return "\r\n".join(lines).encode(site.charset)
