"""Issue 11, parts 3 and 4: one bad link never costs its neighbours, and limits never drop a release silently.

Real crawls of the ``hanweb`` spider against fault-server portals on 127.0.0.1: a release found at ``DEPTH_LIMIT``,
an over-long attachment URL and an over-long release URL, malformed attachment and image links, a column page that
links itself with a new ``?t=`` on every answer, a page with more requisites than ``REQUISITES_MAX_PER_PAGE``, a
``Retry-After`` on one page, and a server that sets a new cookie on every answer and refuses heads over 8 KiB.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.support.fault_crawl import FaultCrawl, run_fault_crawl
from tests.support.faultserver import Conn, FaultServer, Request, respond

HTML = [("Content-Type", "text/html; charset=utf-8")]
PDF = [("Content-Type", "application/pdf")]
DEPTH = 3
URL_LIMIT = 400
VARIANTS = 1
PER_PAGE = 3
LONG_FILE = "/module/download/downfile.jsp?filename=" + "a1b2c3d4" * 60 + ".pdf"


def column_page(cid: int, records: list[str], links: str = "") -> bytes:
    """A Hanweb column page: its records embedded in the jpage datastore script, then ``links``."""
    recs = "".join(f'<record><![CDATA[<li><a href="{href}">标题{i}</a><span>2024-01-0{1 + i % 9}</span></li>]]>'
                   "</record>" for i, href in enumerate(records))
    return (f"<html><head><title>栏目{cid}</title></head><body>{links}<script type=\"text/xml\"><datastore>"
            f"<recordset>{recs}</recordset></datastore></script>"
            f"<script>var totalRecord={len(records)};</script></body></html>").encode()


def release_page(body: str, title: str = "测试发布") -> bytes:
    return (f"<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body><div class=\"title\">{title}"
            f"</div><div>发布时间：2024-01-02</div><div id=\"zoom\"><p>正文内容。</p>{body}</div></body></html>"
            ).encode()


def art(cid: int, n: int) -> str:
    return f"/art/2024/1/2/art_{cid}_{n}.html"


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> tuple[FaultCrawl, FaultServer]:
    """Home (0) -> 政务公开 col1 (1) -> 信息公开 col2 (2) -> 通知 col5 (3 = DEPTH_LIMIT) listing releases; col3 (1)
    lists the other cases and links itself with a new ?t= on every answer."""
    with FaultServer() as fs:
        long_release = art(3, 9) + "?x=" + "y" * URL_LIMIT
        nav = '<a href="/col/col1/index.html">政务公开</a><a href="/col/col3/index.html">动态</a>'
        fs.route("/", respond(200, f"<html><body>{nav}</body></html>".encode(), HTML))
        fs.route("/col/col1/index.html", respond(200, column_page(1, [], '<a href="/col/col2/index.html">信息公开</a>'),
                                                 HTML))
        fs.route("/col/col2/index.html", respond(200, column_page(2, [], '<a href="/col/col5/index.html">通知</a>'),
                                                 HTML))
        fs.route("/col/col5/index.html", respond(200, column_page(5, [art(5, 1), art(5, 2)],
                                                                  '<a href="/col/col4/index.html">更深</a>'), HTML))
        fs.route("/col/col4/index.html", respond(200, column_page(4, [art(4, 1)]), HTML))
        counter = itertools.count()

        def self_linking(request: Request, conn: Conn, hit: int) -> bool:
            links = f'<a href="/col/col3/index.html?t={next(counter)}">刷新</a>'
            records = [art(3, 1), art(3, 2), art(3, 3), art(3, 4), long_release]
            return respond(200, column_page(3, records, links), HTML)(request, conn, hit)

        fs.route("/col/col3/index.html", self_linking)
        attachments = '<a href="/files/a.pdf">附件一.pdf</a>'
        fs.route(art(5, 1), respond(200, release_page(attachments + '<img src="/picture/0/1.jpg">'), HTML))
        fs.route(art(5, 2), respond(200, release_page("无附件"), HTML))
        fs.route(art(3, 1), respond(200, release_page(
            f'<a href="{LONG_FILE}">超长链接附件.pdf</a><a href="/files/b.pdf">附件二.pdf</a>'), HTML))
        fs.route(art(3, 2), respond(200, release_page(
            '<a href="http://[bad/附件.pdf">附件1.pdf</a><a href="//[x/y.doc">附件2.doc</a>'
            '<img src="http://[bad/img/1.jpg"><a href="/files/c.pdf">附件三.pdf</a>'), HTML))
        fs.route(art(3, 3), respond(200, release_page("".join(f'<img src="/picture/0/3{i}.jpg">' for i in range(8))),
                                    HTML))
        busy = respond(503, b"busy", [("Retry-After", "3"), ("Content-Type", "text/html")])
        fine = respond(200, release_page("稍后"), HTML)
        fs.route(art(3, 4), lambda request, conn, hit: (busy if hit == 0 else fine)(request, conn, hit))
        fs.route("/files/*", respond(200, b"%PDF-1.4 test", PDF))
        fs.route("/picture/*", respond(200, b"\x89PNG", [("Content-Type", "image/png")]))
        crawl = run_fault_crawl(tmp_path_factory.mktemp("links") / "out", start_url=fs.url("/"), spider="hanweb",
                                settings={"DEPTH_LIMIT": DEPTH, "URLLENGTH_LIMIT": URL_LIMIT,
                                          "LINKS_MAX_QUERY_VARIANTS": VARIANTS, "REQUISITES_MAX_PER_PAGE": PER_PAGE,
                                          "RETRY_TIMES": 2})
    return crawl, fs


def _attachments(crawl: FaultCrawl, fs: FaultServer, path: str) -> dict[str, str | None]:
    row = crawl.row_for(fs.url(path))
    assert row is not None, f"{path} not archived; failures: {crawl.failures}"
    return {a["url"]: a["skip_reason"] for a in row["attachments"]}


def test_a_release_found_at_the_depth_limit_is_archived_its_attachments_skipped(
        portal: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = portal
    assert _attachments(crawl, fs, art(5, 1)) == {fs.url("/files/a.pdf"): "depth_limit"}
    assert crawl.row_for(fs.url(art(5, 2))) is not None
    assert fs.hits("/files/a.pdf") == 0 and fs.hits("/picture/0/1.jpg") == 0
    assert crawl.stats["depth/releases_past_limit"] == 2
    assert crawl.stats["attachments/skipped/depth-limit"] == 1 and crawl.stats["requisites/depth_limit"] == 1
    # the column past the limit is not followed, and says so in a count
    assert fs.hits("/col/col4/index.html") == 0 and crawl.stats["depth/request_ignored_count"] >= 1


def test_an_over_long_attachment_url_is_skipped_with_a_reason_next_to_a_normal_one(
        portal: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = portal
    assert _attachments(crawl, fs, art(3, 1)) == {fs.url(LONG_FILE): "url_too_long", fs.url("/files/b.pdf"): None}
    assert fs.hits("/module/download/downfile.jsp") == 0
    skips = {}
    for path in sorted((crawl.out_dir / "warc").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "metadata":
                    skips[record.rec_headers.get_header("WARC-Target-URI")] = record.content_stream().read()
    assert b"skipped: url-too-long" in skips[fs.url(LONG_FILE)]


def test_an_over_long_release_url_is_a_failure_row(portal: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = portal
    rows = [row for row in crawl.failures if row["url"].startswith(fs.url(art(3, 9)))]
    assert [row["reason"] for row in rows] == ["url_too_long"], crawl.failures
    assert f"over URLLENGTH_LIMIT {URL_LIMIT}" in rows[0]["detail"] and rows[0]["release"] is True
    assert fs.hits(art(3, 9)) == 0


def test_malformed_attachment_and_image_links_cost_nothing_else(portal: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = portal
    assert _attachments(crawl, fs, art(3, 2)) == {
        "http://[bad/附件.pdf": "malformed_url", "//[x/y.doc": "malformed_url", fs.url("/files/c.pdf"): None}
    assert crawl.stats["links/malformed"] == 3
    assert crawl.stats["attachments/skipped/malformed-url"] == 2 and crawl.stats["requisites/malformed"] == 1
    assert not any(key.startswith("spider_exceptions") for key in crawl.stats)


def test_query_variants_of_a_column_page_do_not_fan_out(portal: tuple[FaultCrawl, FaultServer]) -> None:
    _crawl, fs = portal
    targets = [r.target for r in fs.requests("/col/col3/index.html")]
    # the list walk asks for a column page without its query string (one request); whatever else asks for variants
    # of a path is cut at LINKS_MAX_QUERY_VARIANTS by the middleware: never one request per ?t=N link
    assert 1 <= len(targets) <= 1 + VARIANTS, targets


def test_requisites_per_page_are_bounded(portal: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = portal
    assert fs.hits("/picture/0/3*") == PER_PAGE
    assert crawl.stats["requisites/over_page_limit"] == 8 - PER_PAGE


def test_retry_after_delays_that_request_only(portal: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = portal
    first, second = fs.hit_times(art(3, 4))
    assert second - first >= 3.0
    assert crawl.row_for(fs.url(art(3, 4))) is not None
    # the host is not slowed down: its other pages were fetched while the retry waited
    others = [t for path in ("/files/b.pdf", "/files/c.pdf", "/picture/0/30.jpg") for t in fs.hit_times(path)]
    assert others and max(others) < second


def test_every_release_accounted_for_and_the_run_incomplete(portal: tuple[FaultCrawl, FaultServer]) -> None:
    crawl, fs = portal
    archived = {row["url"] for row in crawl.rows()}
    assert archived == {fs.url(p) for p in (art(5, 1), art(5, 2), art(3, 1), art(3, 2), art(3, 3), art(3, 4))}
    report = json.loads((crawl.out_dir / "report.json").read_text("utf-8"))
    # the over-long release URL is a failure: incomplete, not complete
    assert report["verdict"]["outcome"] == "incomplete", report["verdict"]
    assert report["releases"]["failed_by_reason"] == {"url_too_long": 1}, report["releases"]


def test_retry_after_too_long_fails_that_request_with_the_reason(tmp_path: Path) -> None:
    with FaultServer() as fs:
        fs.route("/col/col1/index.html", respond(200, column_page(1, [art(1, 1), art(1, 2)]), HTML))
        fs.route(art(1, 1), respond(503, b"tomorrow", [("Retry-After", "3600"), ("Content-Type", "text/html")]))
        fs.route(art(1, 2), respond(200, release_page("正文"), HTML))
        crawl = run_fault_crawl(tmp_path / "out", start_url=fs.url("/col/col1/index.html"), spider="hanweb")
        assert fs.hits(art(1, 1)) == 1
    failure = crawl.failure_for(fs.url(art(1, 1)))
    assert failure is not None and failure["reason"] == "http_503"
    assert "Retry-After 3600 s, over RETRY_AFTER_MAX 60 s" in failure["detail"]
    assert crawl.row_for(fs.url(art(1, 2))) is not None and crawl.stats["retry/retry_after_too_long"] == 1


def test_a_cookie_flood_never_pushes_request_heads_past_8_kib(tmp_path: Path) -> None:
    """A new ~130-byte cookie on every answer, heads over 8 KiB refused with 400 as nginx does."""
    serial = itertools.count()
    heads: list[int] = []

    def flood(handler_body: bytes):  # type: ignore[no-untyped-def]
        def handler(request: Request, conn: Conn, hit: int) -> bool:
            head = len(request.method) + len(request.target) + 12 + sum(len(k) + len(v) + 4
                                                                         for k, v in request.headers)
            heads.append(head)
            if head > 8192:
                return respond(400, b"Request Header Or Cookie Too Large", HTML)(request, conn, hit)
            n = next(serial)
            cookie = ("Set-Cookie", f"JSESSIONID_{n}={f'{n:040x}' * 3}; Path=/")
            return respond(200, handler_body, [*HTML, cookie])(request, conn, hit)
        return handler

    releases = [art(1, n) for n in range(90)]
    with FaultServer() as fs:
        fs.route("/col/col1/index.html", flood(column_page(1, releases)))
        for path in releases:
            fs.route(path, flood(release_page("正文")))
        crawl = run_fault_crawl(tmp_path / "out", start_url=fs.url("/col/col1/index.html"), spider="hanweb",
                                settings={"COOKIES_MAX_PER_HOST": 50, "COOKIES_MAX_HEADER_BYTES": 4096,
                                          "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "REQUISITES_ENABLED": False})
    assert len(crawl.rows()) == 90, crawl.failures[:3]
    assert max(heads) <= 4096 + 1024
    assert crawl.stats["cookies/header_trimmed"] > 0 and crawl.stats["cookies/evicted"] == 90 + 1 - 50


def test_query_variant_middleware_keeps_the_first_variants_of_a_path_and_paging_free() -> None:
    """The middleware itself (the list walk already asks for column pages without their query): at most
    LINKS_MAX_QUERY_VARIANTS query strings per path and column; paging parameters and releases are never cut."""
    from scrapy import Request
    from scrapy.utils.test import get_crawler

    from crawler.fetch.link_limits import QueryVariantMiddleware

    crawler = get_crawler(settings_dict={"LINKS_MAX_QUERY_VARIANTS": 2})
    middleware = QueryVariantMiddleware.from_crawler(crawler)
    kept = [middleware.get_processed_request(Request(f"http://127.0.0.1/col/col3/index.html?t={n}"), None)
            for n in range(6)]
    assert sum(r is not None for r in kept) == 2
    paging = [middleware.get_processed_request(Request(f"http://127.0.0.1/col/col3/index.html?pageNum={n}"), None)
              for n in range(6)]
    assert all(r is not None for r in paging)
