"""Catalogue cases 27-33 (RELIABILITY.md 2.4, malformed HTML and XML, Hanweb dataproxy, crawler traps).

Real crawls of the ``hanweb`` spider against fault-server portals: column pages whose dataproxy answers are entity
bombs, XXE, XML-illegal or lying about paging, hostile release pages, and traps. The dataproxy parser is also
tested directly for time and memory.
"""

from __future__ import annotations

import re
import resource
import socket
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import lxml
import pytest

from spiders.hanweb_lists import parse_dataproxy
from tests.support.fault_crawl import FaultCrawl, run_fault_crawl
from tests.support.faultserver import FaultServer, Request, SentinelServer, html_page, respond
from tests.support.invariants import assert_archive_invariants

HTML = [("Content-Type", "text/html; charset=utf-8")]
XML = [("Content-Type", "text/xml; charset=utf-8")]
PAGE_URL = "http://127.0.0.1/col/col1/index.html"


def record(href: str, title: str = "标题") -> str:
    return f'<record><![CDATA[<li><a href="{href}">{title}</a><span>2024-01-01</span></li>]]></record>'


def column_page(cid: int, proxy: str, total: int, records: list[str], per_page: int = 15) -> bytes:
    """A Hanweb column page: first records embedded in a datastore script, jpage parameters naming ``proxy``."""
    return (f"<html><head><title>栏目{cid}</title></head><body><script type=\"text/xml\"><datastore>"
            f'<nextgroup><![CDATA[<a href="{proxy}?page=1&appid=1&webid=1&columnid={cid}"></a>]]></nextgroup>'
            f"<recordset>{''.join(records)}</recordset></datastore></script>"
            f"<script>var totalRecord={total}; perPage:{per_page}; proxyUrl:'{proxy}';</script></body></html>"
            ).encode()


def dataproxy(records: list[str], total: int, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{doctype}<datastore><totalrecord>{total}</totalrecord>'
            f"<recordset>{''.join(records)}</recordset></datastore>").encode()


BILLION_LAUGHS = ('<!DOCTYPE datastore [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
                            for i in range(1, 10)) + "]>")
QUADRATIC = '<!DOCTYPE datastore [<!ENTITY a "' + "A" * 100_000 + '">]>'


def bomb_xml(doctype: str, entity: str, count: int, href: str = "/art/2024/1/1/art_1_2.html") -> bytes:
    return dataproxy([record(href), f"<record>{entity * count}</record>"], 2, doctype)


# -- direct parser tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [bomb_xml(BILLION_LAUGHS, "&lol9;", 1), bomb_xml(QUADRATIC, "&a;", 10_000)],
                         ids=["billion_laughs", "quadratic"])
def test_case27_entity_bombs_parse_fast_in_little_memory(body: bytes) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    records, total = parse_dataproxy(body, PAGE_URL)
    elapsed = time.perf_counter() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert elapsed < 1.0 and grown_kib < 50 * 1024
    assert [r.url for r in records] == ["http://127.0.0.1/art/2024/1/1/art_1_2.html"] and total == 2


def test_case28_xxe_never_resolved_and_lxml_is_patched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-HOSTNAME")
    with SentinelServer() as sentinel:
        doctype = (f'<!DOCTYPE datastore [<!ENTITY x SYSTEM "file://{secret}">'
                   f'<!ENTITY y SYSTEM "http://127.0.0.3:{sentinel.port}/xxe">]>')
        body = dataproxy([record("/art/2024/1/1/art_2_1.html"), "<record>&x;&y;</record>"], 2, doctype)
        records, _ = parse_dataproxy(body, PAGE_URL)
        time.sleep(0.2)
        assert sentinel.hits() == 0
    assert "TOP-SECRET" not in repr(records)
    assert tuple(int(p) for p in lxml.__version__.split(".")[:2]) >= (6, 1)  # GHSA-vfmq-68hx-4jfw fixed


def test_case29_xml_illegal_content_falls_back_without_dropping_records() -> None:
    records_xml = [record("/art/2024/1/1/art_3_1.html", "控制\x01\x02\x08字符"),
                   record("/art/2024/1/1/art_3_2.html", "标题]]>里有结束符"),
                   record("/art/2024/1/1/art_3_3.html", "正常")]
    body = dataproxy(records_xml, 3)
    records, total = parse_dataproxy(body, PAGE_URL)
    assert len(records) == len(re.findall(rb"<record>", body)) == 3
    assert [r.url.rsplit("_", 1)[1] for r in records] == ["1.html", "2.html", "3.html"] and total == 3


def test_case30_cdata_html_links_resolve_against_the_page_not_the_endpoint() -> None:
    body = dataproxy([record("../../art/2024/1/1/art_1_1.html")], 1)
    records, _ = parse_dataproxy(body, "http://127.0.0.1/col/col1/index.html")
    assert [r.url for r in records] == ["http://127.0.0.1/art/2024/1/1/art_1_1.html"]
    assert records[0].title == "标题" and records[0].date_text == "2024-01-01"


# -- a crawl of a hostile portal ----------------------------------------------------------------------------

HOSTILE = {
    "deep": "<div>" * 10_000 + "深层嵌套正文" + "</div>" * 10_000,
    "soup": "<table><tr><td>汤" * 2_000,
    "nul": "空\x00字\x00符",
    "big": "大页面 " + "a" * 3_000_000,
    "links": "".join(f'<a href="/art/2024/1/1/art_6_{9000 + i}.html">链接{i}</a>' for i in range(50_000)),
}


class Portal:
    crawl: FaultCrawl
    fs: FaultServer
    sentinel: FaultServer


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Portal:
    tmp = tmp_path_factory.mktemp("markup")
    with FaultServer() as fs, SentinelServer() as sentinel:
        cols = {
            1: ("/proxy1/dataproxy.jsp", bomb_xml(BILLION_LAUGHS, "&lol9;", 1, "/art/2024/1/1/art_1_102.html")),
            2: ("/proxy2/dataproxy.jsp", dataproxy(
                [record("/art/2024/1/1/art_2_202.html"), "<record>&x;&y;</record>"], 2,
                '<!DOCTYPE datastore [<!ENTITY x SYSTEM "file:///etc/hostname">'
                f'<!ENTITY y SYSTEM "http://127.0.0.3:{sentinel.port}/xxe">]>')),
            3: ("/proxy3/dataproxy.jsp", dataproxy([
                record("/art/2024/1/1/art_3_302.html", "控制\x01\x02字符"),
                record("/art/2024/1/1/art_3_303.html", "标题]]>结束符"), record("/art/2024/1/1/art_3_304.html")], 4)),
            4: ("/module/web/jpage/dataproxy.jsp", dataproxy([record("../../art/2024/1/1/art_4_402.html")], 2)),
        }
        home = "".join(f'<a href="/col/col{c}/index.html">栏目{c}</a>' for c in [*cols, 5, 6])
        fs.route("/", respond(200, f"<html><body>{home}</body></html>".encode(), HTML))
        for cid, (proxy, answer) in cols.items():
            fs.route(f"/col/col{cid}/index.html",
                     respond(200, column_page(cid, proxy, 16, [record(f"/art/2024/1/1/art_{cid}_{cid}01.html")]), HTML))
            fs.route(proxy, respond(200, answer, XML))
        # case 31: a server that ignores paging and always answers with the same records
        fs.route("/col/col5/index.html", respond(200, column_page(5, "/proxy5/dataproxy.jsp", 150, [
            record("/art/2024/1/1/art_5_501.html")]), HTML))
        fs.route("/proxy5/dataproxy.jsp", respond(200, dataproxy(
            [record(f"/art/2024/1/1/art_5_{i}.html") for i in (502, 503, 504)], 150), XML))
        # case 32: hostile release pages, listed by column 6
        hostile = {name: f"/art/2024/1/1/art_6_{600 + i}.html" for i, name in enumerate(HOSTILE, start=1)}
        fs.route("/col/col6/index.html", respond(200, column_page(6, "/proxy6/dataproxy.jsp", len(hostile), [
            record(path) for path in hostile.values()]), HTML))
        for name, path in hostile.items():
            fs.route(path, respond(200, html_page(HOSTILE[name]), HTML))
        fs.route("/art/*", respond(200, html_page("普通正文"), HTML))
        crawl = run_fault_crawl(tmp / "out", start_url=fs.url("/"), spider="hanweb", timeout=180,
                                settings={"DOWNLOAD_TIMEOUT": 30})
        result = Portal()
        result.crawl, result.fs, result.sentinel = crawl, fs, sentinel
    return result


def _ids(fs: FaultServer, column: int) -> set[str]:
    return {r.path.rsplit("_", 1)[1] for r in fs.requests(f"/art/2024/1/1/art_{column}_*")}


def test_hostile_portal_crawl_finishes_and_keeps_the_invariants(portal: Portal) -> None:
    crawl = portal.crawl
    assert crawl.returncode == 0 and crawl.stats["finish_reason"] == "finished", crawl.output[-3000:]
    assert not any(k.startswith("spider_exceptions") for k in crawl.stats), crawl.stats
    assert_archive_invariants(crawl.out_dir)


def test_case27_bomb_answer_archived_and_its_real_record_followed(portal: Portal) -> None:
    assert portal.fs.hits("/proxy1/dataproxy.jsp") >= 1
    assert _ids(portal.fs, 1) == {"101.html", "102.html"}
    assert any(r["url"].endswith("art_1_102.html") for r in portal.crawl.rows())


def test_case28_xxe_in_a_crawl_reads_no_file_and_calls_no_one(portal: Portal) -> None:
    assert portal.sentinel.hits() == 0
    hostname = socket.gethostname()
    outputs = b"".join(p.read_bytes() for p in portal.crawl.out_dir.glob("*.jsonl"))
    assert hostname.encode() not in outputs or hostname in {"localhost"}
    assert _ids(portal.fs, 2) == {"201.html", "202.html"}


def test_case29_illegal_xml_records_all_followed(portal: Portal) -> None:
    assert _ids(portal.fs, 3) == {"301.html", "302.html", "303.html", "304.html"}


def test_case30_relative_cdata_links_resolved_against_the_column_page(portal: Portal) -> None:
    assert _ids(portal.fs, 4) == {"401.html", "402.html"}
    assert portal.fs.hits("/module/art/*") == 0


def test_case31_lying_pagination_is_bounded_and_logged(portal: Portal) -> None:
    pages = portal.fs.requests("/proxy5/dataproxy.jsp")
    asked = sorted(int(dict(parse_qsl(urlsplit(r.target).query))["page"]) for r in pages)
    # page 1 brings new records, pages 2 and 3 only those again: the walk stops there, whatever totalrecord says
    assert asked == [1, 2, 3]
    anomalies = re.findall(r"pagination_anomaly: \S+/proxy5/dataproxy\.jsp", portal.crawl.log)
    assert len(anomalies) == 2
    assert _ids(portal.fs, 5) == {"501.html", "502.html", "503.html", "504.html"}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_case32_hostile_html_extracted_without_crash(portal: Portal, name: str) -> None:
    index = 600 + list(HOSTILE).index(name) + 1
    row = next((r for r in portal.crawl.rows() if r["url"].endswith(f"/art_6_{index}.html")), None)
    assert row is not None, name
    assert "\x00" not in (row["body_text"] or "")
    if name == "nul":
        assert row["body_text"] == "空字符"
    if name == "links":  # release pages are leaves: none of their 50,000 links is fetched
        assert not any(int(i.split(".")[0]) >= 9000 for i in _ids(portal.fs, 6))


# -- case 33: crawler traps ---------------------------------------------------------------------------------

DEPTH = 4


def _calendar(request: Request, conn: object, hit: int) -> None:
    day = int(dict(parse_qsl(urlsplit(request.target).query)).get("day", "0"))
    body = f'<html><body><a href="/col/col7/index.html?day={day + 1}">明天</a></body></html>'.encode()
    respond(200, body, HTML)(request, conn, hit)  # type: ignore[arg-type]


def _path_loop(request: Request, conn: object, hit: int) -> None:
    respond(200, b'<html><body><a href="x/col/col9/index.html">loop</a></body></html>', HTML)(
        request, conn, hit)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def traps(tmp_path_factory: pytest.TempPathFactory) -> tuple[FaultCrawl, FaultServer]:
    with FaultServer() as fs:
        home = "".join(f'<a href="{h}">x</a>' for h in
                       ["/col/col7/index.html?day=0", "/col/col8/index.html", "/col/col9/index.html"])
        fs.route("/", respond(200, f"<html><body>{home}</body></html>".encode(), HTML))
        fs.route("/col/col7/index.html", _calendar)
        fs.route("/col/col9/*", _path_loop)
        sessions = "".join(f'<a href="/art/2024/1/1/art_8_1.html;jsessionid=S{i}">同一篇</a>' for i in range(5))
        fs.route("/col/col8/index.html", respond(200, f"<html><body>{sessions}</body></html>".encode(), HTML))
        fs.route("/art/*", respond(200, html_page("正文"), HTML))
        crawl = run_fault_crawl(tmp_path_factory.mktemp("traps") / "out", start_url=fs.url("/"), spider="hanweb",
                                settings={"DEPTH_LIMIT": DEPTH})
    return crawl, fs


def test_case33_depth_cap_stops_infinite_calendar_and_path_loop(traps: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = traps
    assert crawl.returncode == 0 and crawl.stats["finish_reason"] == "finished"
    # a column is named by its id: its query variants (an infinite ?day= calendar) are one column page
    assert fs.hits("/col/col7/index.html") == 1
    assert 2 <= fs.hits("/col/col9/*") <= DEPTH
    assert crawl.stats["request_depth_max"] == DEPTH
    assert_archive_invariants(crawl.out_dir)


def test_case33_session_id_variants_fetched_once_and_archived_as_fetched(
        traps: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = traps
    fetched = fs.requests("/art/2024/1/1/art_8_1.html*")
    assert len(fetched) == 1
    assert [r["url"].rsplit("/", 1)[1] for r in crawl.rows()] == [fetched[0].target.rsplit("/", 1)[1]]
    assert ";jsessionid=S" in crawl.rows()[0]["url"]


def test_case33_per_host_page_cap_stops_a_link_farm(tmp_path: Path) -> None:
    with FaultServer() as fs:
        farm = "".join(f'<a href="/art/2024/1/1/art_10_{i}.html">篇{i}</a>' for i in range(1_000))
        start = fs.route("/col/col10/index.html", respond(200, f"<html><body>{farm}</body></html>".encode(), HTML))
        fs.route("/art/*", respond(200, html_page("正文"), HTML))
        crawl = run_fault_crawl(tmp_path / "out", start_url=start, spider="hanweb",
                                settings={"TRAP_MAX_PAGES_PER_HOST": 40})
        assert fs.hits() == 40
    assert crawl.stats["trap/host_page_cap"] == 1_000 + 1 - 40
    assert crawl.stats["failures/host_page_cap"] == 1_000 + 1 - 40
    assert len(crawl.failures) == 1_000 + 1 - 40
    assert len(crawl.rows()) == 39
    assert_archive_invariants(crawl.out_dir)
