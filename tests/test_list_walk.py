"""List widgets and their walk: parsing Hanweb-shaped column pages (HANWEB.md §3), the stop rules, and the fallback
between list forms in real crawls of loopback portals (tests/support/heldout servers)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from spiders.list_walk import EXHAUSTED, FAILED, PAGES, RANGES, TRUNCATED, WidgetWalk
from spiders.list_widgets import parse_widgets
from tests.support.heldout.crawl import run_crawl
from tests.support.heldout.hostile import tiny_site
from tests.support.heldout.model import ListApi
from tests.support.heldout.server import PortalServer

PAGE = "http://jshrss.jiangsu.gov.cn/col/col77278/index.html"
FORM = ("col:1,appid:1,webid:67,path:'/',columnid:77278,sourceContentType:1,unitid:'{unit}',"
        "webname:'江苏省人力资源和社会保障厅',permissiontype:0")


def _record(n: int, href: str | None = None) -> str:
    href = href or f"/art/2026/9/16/art_77278_{11830000 + n}.html"
    return (f'<record><![CDATA[<li class="cf"><a target="_blank" href="{href}" '
            f'title="省人力资源社会保障厅关于印发第{n}号通知">第{n}号…</a><span>2026-09-16</span></li>]]></record>')


def _widget(unit: int, records: list[str], nextgroup: str | None, call: str) -> str:
    group = f'<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup>' if nextgroup else ""
    return (f'<div id="{unit}"><script type="text/xml"><datastore>{group}<recordset>{"".join(records)}'
            f"</recordset></datastore></script></div>{call}")


def _page() -> str:
    """A side list (5 records, param-var jpage call) before the main list (inline call, GET nextgroup too)."""
    side = _widget(303270, [_record(900 + i) for i in range(5)], None,
                   f"<script>var param_303270={{{FORM.format(unit=303270)}}};$(function(){{$('#303270').jpage("
                   "{dataStore:null,perPage:5,groupSize:1,totalRecord:5,proxyUrl:\"/module/web/jpage/dataproxy.jsp\","
                   "ajaxParam:param_303270});});</script>")
    main = _widget(303271, [_record(i) for i in range(44)] + [_record(44, "//[x/y")],
                   "/module/web/jpage/dataproxy.jsp?page=4&amp;appid=1&amp;webid=67&amp;path=/&amp;columnid=77278"
                   "&amp;unitid=303271&amp;permissiontype=0",
                   "<script>$(function(){$('#303271').jpage({themeName:'default',totalRecord:1928,groupSize:3,"
                   f"proxyUrl:'/module/web/jpage/dataproxy.jsp',perPage:15,ajaxParam:{{{FORM.format(unit=303271)}}}}});}});"
                   "</script>")
    return f"<html><body>{side}<div>main</div>{main}</body></html>"


def test_every_widget_of_a_page_with_its_own_parameters() -> None:
    scan = parse_widgets(_page(), PAGE)
    side, main = scan.widgets
    assert (side.unit_id, side.per_page, side.group_size, side.total, side.embedded) == ("303270", 5, 1, 5, 5)
    assert side.jpage and side.nextgroup is None and dict(side.form)["unitid"] == "303270"
    assert (main.unit_id, main.per_page, main.group_size, main.total, main.embedded) == ("303271", 15, 3, 1928, 45)
    assert main.proxy_url == "http://jshrss.jiangsu.gov.cn/module/web/jpage/dataproxy.jsp"
    assert main.nextgroup is not None and "&amp;" not in main.nextgroup
    assert [k for k, _ in main.form][:4] == ["col", "appid", "webid", "path"]
    assert len(main.records) == 44 and scan.malformed == 1  # the malformed record is skipped, its neighbours kept


def test_the_walk_asks_what_a_browser_asks_and_stops_at_an_empty_page() -> None:
    main = parse_widgets(_page(), PAGE).widgets[1]
    walk = WidgetWalk.of("77278", main, PAGE, 2, 2000)
    ask = walk.first()
    assert ask is not None and ask.form == RANGES and ask.body is not None
    assert dict(parse_qsl(urlsplit(ask.url).query)) == {"startrecord": "46", "endrecord": "90", "perpage": "15"}
    ask = walk.answered(True, [f"{PAGE}/../a{i}" for i in range(45)])
    assert ask is not None and dict(parse_qsl(urlsplit(ask.url).query))["startrecord"] == "91"
    assert walk.answered(True, []) is None and walk.outcome == EXHAUSTED
    assert walk.pages == 2  # a declared total of 1928 planned nothing


def test_a_page_of_only_seen_records_twice_ends_the_walk() -> None:
    main = parse_widgets(_page(), PAGE).widgets[1]
    walk = WidgetWalk.of("77278", main, PAGE, 2, 2000)
    walk.first()
    same = ["http://x/art/1.html", "http://x/art/2.html"]
    assert walk.answered(True, same) is not None
    assert walk.answered(True, same) is not None  # once may be the embedded group again
    assert walk.answered(True, same) is None and walk.outcome == EXHAUSTED


def test_the_trap_cap_truncates() -> None:
    main = parse_widgets(_page(), PAGE).widgets[1]
    walk = WidgetWalk.of("77278", main, PAGE, 2, 3)
    walk.first()
    assert walk.answered(True, ["http://x/art/1.html"]) is not None
    assert walk.answered(True, ["http://x/art/2.html"]) is not None
    assert walk.answered(True, ["http://x/art/3.html"]) is None and walk.outcome == TRUNCATED


def test_a_non_list_answer_hands_the_walk_to_the_get_form_then_fails() -> None:
    main = parse_widgets(_page(), PAGE).widgets[1]
    walk = WidgetWalk.of("77278", main, PAGE, 2, 2000)
    walk.first()
    ask = walk.answered(False, [])
    assert ask is not None and ask.form == PAGES and ask.body is None
    assert dict(parse_qsl(urlsplit(ask.url).query))["page"] == "4"
    assert walk.failed() is None and walk.outcome == FAILED


def _crawl(tmp_path: Path, api: ListApi, sizes: list[int], **settings: str) -> tuple[int | None, dict, set[str],
                                                                                    set[str]]:
    site = tiny_site(20, sizes, api=api)
    with PortalServer(site, "127.0.0.180", "127.0.0.181") as server:
        outcome = run_crawl(server, tmp_path / "out", "walk", deadline=90, settings=settings)
        truth = {row["url"] for row in server.truth()}
        asked = {f"{r.method} {urlsplit(r.target).path}" for r in server.app.log if "dataproxy" in r.target}
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert {row["url"] for row in outcome.rows} <= truth
    return outcome.returncode, report, {row["url"] for row in outcome.rows} ^ truth, asked


def test_broken_ranges_fall_back_to_the_nextgroup_chain(tmp_path: Path) -> None:
    """The page declares a jpage call, but the POST answers a 200 "系统繁忙" page: the GET chain lists the rest."""
    code, report, missing, asked = _crawl(tmp_path, ListApi(ranges_broken=True), [70, 40])
    assert not missing and code == 0, report["verdict"]
    assert {"POST /module/web/jpage/dataproxy.jsp", "GET /module/web/jpage/dataproxy.jsp"} <= asked
    assert {c["list_end"] for c in report["columns"] if c["column_id"] in ("4100", "4101")} == {"exhausted"}


def test_a_truncated_list_makes_the_run_incomplete_and_names_the_column(tmp_path: Path) -> None:
    code, report, missing, _ = _crawl(tmp_path, ListApi(pages=False), [100], LIST_MAX_PAGES_PER_WIDGET="2")
    assert missing and code == 5
    column = next(c for c in report["columns"] if c["column_id"] == "4100")
    assert column["list_end"] == "truncated"
    assert "column 4100" in report["verdict"]["reason"] + " ".join(report["verdict"]["details"])
