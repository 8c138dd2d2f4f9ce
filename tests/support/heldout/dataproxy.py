"""The jpage list endpoint (``dataproxy.jsp``) in the forms a site answers.

``startrecord/endrecord/perpage`` (what a browser POSTs for a declared jpage call, with the ajaxParam form) and
``page=N`` (the ``<nextgroup>`` GET link). Parameters are read from the query and the form body alike. A form the
site does not answer gets a 404 or an empty datastore; a "broken" range answer is a 200 HTML error page. Totals say
what the unit's ``endpoint_total`` says, not what is served; pages past the end are answered 200 and empty.
"""

from __future__ import annotations

import math

from .model import Site, Unit
from .render_column import entries, proxy_query, record_html

BUSY_PAGE = "<html><head><title>提示</title></head><body><p>系统繁忙，请稍后再试！</p></body></html>"


def _xml(site: Site, unit: Unit | None, records: list[str], per_page: int, nextgroup: str | None) -> bytes:
    total = unit.endpoint_total if unit is not None else 0
    encoding = "GBK" if site.charset == "gbk" else "UTF-8"
    head = [f"<totalrecord>{total}</totalrecord>", f"<totalpage>{math.ceil(total / max(per_page, 1))}</totalpage>"]
    body = ["<recordset>", *[f"<record><![CDATA[\n{r}\n]]></record>" for r in records], "</recordset>"]
    if nextgroup:
        body.insert(0, f'<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup>')
    parts = head + body if site.api.xml_order == "total-first" else body + head
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n<datastore>\n' + "\n".join(parts) + "\n</datastore>\n"
    return text.encode(site.charset)


def content_type(site: Site) -> str:
    return "text/xml;charset=" + ("GBK" if site.charset == "gbk" else "UTF-8")


def _int(params: dict[str, str], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except ValueError:
        return default


def answer(site: Site, path: str, params: dict[str, str], bases: dict[str, str]) -> tuple[int, bytes, str]:
    """(status, body, content type) of one list-endpoint request."""
    api = site.api
    if path != api.proxy_path:
        return 404, b"<html><body>404 Not Found</body></html>", "text/html"
    unit = site.units().get(_int(params, "unitid", -1))
    if "startrecord" in params or "endrecord" in params:
        if api.ranges_broken:
            return 200, BUSY_PAGE.encode(site.charset), f"text/html;charset={site.charset}"
        if not api.ranges:
            return _unanswered(site)
        start = max(1, _int(params, "startrecord", 1))
        end = _int(params, "endrecord", start + 14)
        per_page = _int(params, "perpage", unit.per_page if unit else 15)
        served = entries(unit) if unit is not None else []
        records = [record_html(e, unit, bases) for e in served[start - 1: max(start - 1, end)]] if unit else []
        return 200, _xml(site, unit, records, per_page, None), content_type(site)
    if "page" in params:
        if not api.pages:
            return _unanswered(site)
        if unit is None:
            return 200, _xml(site, None, [], 15, None), content_type(site)
        page = _int(params, "page", 1)
        size = unit.per_page * (unit.group_size if api.page_unit == "group" else 1)
        offset = (page - api.nextgroup_base) * size
        served = entries(unit)
        chunk = served[offset: offset + size] if offset >= 0 else []
        nextgroup = None
        if chunk:
            nextgroup = f"{api.proxy_path}?{proxy_query(site, unit, page + 1, unit.unit_id % 2 == 0)}"
        return 200, _xml(site, unit, [record_html(e, unit, bases) for e in chunk], unit.per_page, nextgroup), \
            content_type(site)
    return _unanswered(site)


def _unanswered(site: Site) -> tuple[int, bytes, str]:
    if site.api.unanswered == "404":
        return 404, b"<html><body>404 Not Found</body></html>", "text/html"
    return 200, _xml(site, None, [], 15, None), content_type(site)
