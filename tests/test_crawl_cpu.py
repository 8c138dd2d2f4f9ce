"""The crawl's CPU savings (issue 15, item 4) change no outcome: each shortcut is held against the long way round.

- the stats collector's plain attribute lookup (no per-call deprecation wrapper) still counts;
- Scrapy's remote-control extension is not loaded at all (it is off);
- the soft-404 check's substring pre-test gives the verdict of the full rules on every page we have, error pages and
  near misses included;
- the live crawl reads a release page's fields from its article region, and hands the requisites finder the whole
  page's decoded text: the same item as the whole-page parse, over the classic portal, the variation seeds and every
  fixture page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.settings import Settings
from scrapy.statscollectors import StatsCollector
from scrapy.utils.conf import build_component_list
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.fetch import soft404
from crawler.report.stats_dump import JsonStatsCollector
from spiders.article_region import article_region
from spiders.decoding import decode_html
from spiders.hanweb import release_item_and_text
from spiders.release_page import parse_release_document
from tests.support.release_pages import simulated_pages
from tests.test_accounting import HANWEB_ERROR, RELEASE_ABOUT_404, SOFT_404

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "data" / "pages"


# -- stats and extensions ---------------------------------------------------------------------------------------
def test_the_stats_collector_counts_without_scrapys_per_call_wrapper() -> None:
    stats = JsonStatsCollector(get_crawler())
    assert stats.inc_value.__func__ is StatsCollector.inc_value  # type: ignore[attr-defined]  # a bound method
    stats.inc_value("a")
    stats.inc_value("a", 2)
    stats.max_value("m", 3)
    stats.max_value("m", 1)
    stats.set_value("s", "x", spider=None)  # the old spider argument is still taken
    assert stats.get_stats() == {"a": 3, "m": 3, "s": "x"}


def test_the_remote_control_extension_is_not_loaded() -> None:
    settings = Settings()
    settings.setmodule(project_settings, priority="project")
    assert settings.getbool("REMOTE_CONTROL_ENABLED") is False
    loaded = build_component_list(settings.getwithbase("EXTENSIONS"))
    assert not any("remote_control" in path for path in settings.getwithbase("EXTENSIONS"))  # never even imported
    assert "scrapy.extensions.remote_control.RemoteControl" not in loaded
    assert "archives.components.capture.WarcCaptureExtension" in loaded


# -- soft 404s --------------------------------------------------------------------------------------------------
def _full_rules(html: str) -> str | None:
    """`soft404.soft_404_reason` without its pre-test (the rules as they were written first)."""
    title = soft404.page_title(html)
    if title and soft404.ERROR_TITLE.search(title):
        return f"the page's title is an error page's: {title[:80]!r}"
    if len(html) > 200_000:
        return None
    text = soft404.visible_text(html)
    if len(text) > soft404.SHORT_TEXT or soft404.RELEASE_LABELS.search(text):
        return None
    phrase = soft404.ERROR_PHRASES.search(text)
    if phrase:
        return f"a short page ({len(text)} characters) saying {phrase.group(0)!r}"
    if soft404.TEMPLATE_MARKS.search(html):
        return f"a short page ({len(text)} characters) from the CMS's error template"
    return None


def _short(body: str) -> str:
    return f"<html><head><title>通知</title></head><body><div>{body}</div></body></html>"


ERROR_BODIES = [
    "您访问的页面不存在", "页面不存在", "页面未找到", "该信息已被删除", "信息已删除或已过期", "该信息不存在",
    "文章不存在", "内容不存在", "没有找到相关信息", "没有找到您要的页面", "Page  NOT\nFound", "404 not FOUND",
    "页面已失效", "链接已失效", "<img src='/module/error/x.png'>", "<img src='/IMAGES/ERROR404.GIF'>",
    "<img src='404.PNG'>",
    "<div class=ERR404>x</div>", "<div class='NotFound'>x</div>", '<div class="error">x</div>',
    "page<script>x</script>not found", "页面<b>不存在</b>", "页面<!-- -->不存在", "页面\n不存在",
]
NEAR_MISSES = ["正文" * 20, "发布日期：2024-01-01 页面不存在", "不 存在", "已经删", "失效", "errand", "4040"]


def _pages() -> Iterator[str]:
    yield from (SOFT_404.decode(), HANWEB_ERROR.decode(), RELEASE_ABOUT_404)
    yield from (_short(body) for body in ERROR_BODIES + NEAR_MISSES)
    yield from (text for _url, text in simulated_pages(None, 6))
    yield from (path.read_text(encoding="utf-8", errors="replace") for path in sorted(FIXTURES.glob("*.html")))


def test_the_soft_404_pretest_gives_the_full_rules_verdict() -> None:
    verdicts = [(soft404.soft_404_reason(page), _full_rules(page)) for page in _pages()]
    assert verdicts == [(soft404.soft_404_reason(page, soft404.ascii_lowered(page)), full) for page, (_, full)
                        in zip(_pages(), verdicts, strict=True)]  # the projection as the release checks pass it
    assert all(fast == full for fast, full in verdicts), [v for v in verdicts if v[0] != v[1]]
    errors = sum(full is not None for _fast, full in verdicts)
    assert errors >= 20  # most bodies above are error pages (a phrase cut by a tag is not), so this says something


def test_the_pretest_skips_the_rendering_of_an_ordinary_release_page() -> None:
    _url, text = next(simulated_pages(None, 1))
    assert not soft404._may_say_not_found(text)
    assert soft404._may_say_not_found(_short("Page Not Found"))


REFRESH_PAGES = [
    '<meta http-equiv="refresh" content="0;url=/col/col1/index.html">',
    "<META HTTP-EQUIV=Refresh CONTENT='3; URL=mailto:a@b'>",
    "<meta http-equiv=REFRESH content=0;url=http://other.example/x>",
    "<meta content=\"1;url=/a\" http-equiv=\"rEfReSh\">",
    '<script><meta http-equiv="refresh" content="0;url=/in-script"></script>', '<!-- <meta http-equiv="refresh"> -->',
    '<meta http-equiv="&#114;efresh" content="0;url=/entity">', '<meta http-equiv="re中fresh" content="0;url=/cjk">',
    "x" * 20_000 + '<meta http-equiv="refresh" content="0;url=/late">', "<p>refresh the page</p>",
]


def test_the_meta_refresh_pretest_gives_w3libs_answer() -> None:
    from w3lib.html import get_meta_refresh

    from crawler.fetch.release_checks import META_REFRESH_SCAN, meta_refresh_target

    url = "http://www.example.gov.cn/art/2020/1/1/art_1_2.html"
    pages = [*_pages(), *(_short(body) for body in REFRESH_PAGES)]
    targets = []
    for page in pages:
        expected = get_meta_refresh(page[:META_REFRESH_SCAN], url, ignore_tags=("script", "noscript"))[1]
        assert meta_refresh_target(page, url, soft404.ascii_lowered(page)) == expected, page[:200]
        targets.append(expected)
    assert sum(target is not None for target in targets) == 4
    _url, text = next(simulated_pages(None, 1))
    assert b"refresh" not in soft404.ascii_lowered(text)  # an ordinary release page is not scanned


def _answer(middleware: Any, request: Request, response: HtmlResponse) -> Any:
    """What a downloader middleware returns, or the exception it raises (Scrapy's raises on a mailto: refresh)."""
    try:
        return middleware.process_response(request, response)
    except Exception as exc:  # compared by type with the other middleware's
        return exc


def test_scrapys_meta_refresh_middleware_with_the_pretest_answers_as_without_it() -> None:
    from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware

    from crawler.fetch.redirects import RecordingMetaRefreshMiddleware

    crawler = get_crawler(settings_dict={"METAREFRESH_ENABLED": True})
    ours, scrapys = RecordingMetaRefreshMiddleware.from_crawler(crawler), MetaRefreshMiddleware.from_crawler(crawler)
    url = "http://www.example.gov.cn/art/2020/1/1/art_1_2.html"
    answers = []
    for page in [*_pages(), *(_short(body) for body in REFRESH_PAGES), *REFRESH_PAGES]:
        for encoding in ("utf-8", "gb18030"):
            body = page.encode(encoding, "replace")
            request = Request(url)
            got, expected = (_answer(middleware, request, HtmlResponse(url, body=body, encoding=encoding))
                             for middleware in (ours, scrapys))
            assert type(got) is type(expected), page[:200]
            if isinstance(expected, Request):
                assert got.url == expected.url
                answers.append(expected.url)
    assert len(answers) >= 4  # a refresh Scrapy follows still is followed


# -- the live crawl's release pages: fields from the region, requisites from the whole page's text --------------
def _response(url: str, text: str) -> HtmlResponse:
    request = Request(url, meta={"column_id": "1", "list_title": "列表标题"})
    return HtmlResponse(url, body=text.encode("utf-8"), headers={"Content-Type": "text/html; charset=utf-8"},
                        request=request)


def _check(url: str, text: str) -> bool:
    """The live item equals the one built from the whole page, and the text handed on is the whole page."""
    response = _response(url, text)
    item, handed_on = release_item_and_text(response, "demo", {}, text_decoded=True)
    decoded = decode_html(response.body, "text/html; charset=utf-8").text
    raw, whole = parse_release_document(decoded, url, use_region=False)
    assert whole is not None and handed_on == decoded
    for field in ("title", "release_raw", "release_source", "pubdate_raw", "hits_raw", "source", "index_no",
                  "doc_no", "body_html", "language", "attachments_found"):
        assert getattr(item, field) == (raw[field] or "列表标题" if field == "title" else raw[field]), (url, field)
    return article_region(text) is not None


@pytest.mark.parametrize("vary", [None, 3, 7, 12, 21, 33], ids=lambda v: f"vary-{v}")
def test_the_live_release_item_is_the_whole_pages(vary: int | None) -> None:
    used = [_check(url, text) for url, text in simulated_pages(vary, 6)]
    assert all(used)  # the region path was taken, so the comparison says something


def test_fixture_pages_give_the_whole_pages_item() -> None:
    paths = sorted(FIXTURES.glob("*.html"))
    assert len(paths) >= 10
    for path in paths:
        text = path.read_text(encoding="utf-8")
        url = "http://www.example.gov.cn/art/2020/1/1/art_1_2.html"
        _check(url, text)


# -- requisites: path-absolute links resolved once ---------------------------------------------------------------
def test_remembered_requisite_links_resolve_as_absolute_url_does() -> None:
    from spiders import requisites
    from spiders.links import absolute_url

    refs = ["/images/1/logo.png", "/a/../b/./c.png", "/x y.png", "/\t/evil.example/x.js", "/%2e%2e/x.css", "/a?b#c",
            " /lead.png\n", "//cdn.example/x.js", "rel.png", "../up.png", "?q=1", "/[bad", "http://[bad/1.jpg",
            "https://portal.example/abs.css", "/", "/module/visitcount/articlehits.jsp?artid=1"]
    bases = ["http://portal.example/art/2024/1/2/art_1_2.html", "http://portal.example/col/col1/index.html",
             "http://portal.example:8080/a/b", "https://portal.example/a/", "http://user@portal.example/x/y.html",
             "http://portal.example/art/2024/1/2/art_1_2.html"]
    requisites._RESOLVED.clear()
    for base in bases:  # the memory filled by the first base is read for the others
        parts = requisites.urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}"
        assert [requisites._resolve(base, origin, ref) for ref in refs] == [absolute_url(base, ref) for ref in refs]
    assert ("http://portal.example", "/images/1/logo.png") in requisites._RESOLVED
    assert not any(link.startswith(("//", "rel", "?")) for _origin, link in requisites._RESOLVED)


# -- decompression: no charset detection over compressed bytes -----------------------------------------------------
def test_decoded_responses_are_scrapys_own() -> None:
    import gzip
    import zlib

    from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
    from scrapy.http import Response, TextResponse, XmlResponse

    from crawler.fetch.decompression import RecordingHttpCompressionMiddleware, _untyped

    page = "<html><head><meta charset='gbk'></head><body><p>正文 通知</p></body></html>"
    cases = [
        (HtmlResponse, "text/html; charset=utf-8", gzip.compress(page.encode("utf-8")), b"gzip"),
        (HtmlResponse, "text/html", gzip.compress(page.encode("gbk")), b"gzip"),
        (HtmlResponse, "text/html", zlib.compress(page.encode("gb18030")), b"deflate"),
        (XmlResponse, "text/xml", gzip.compress("<r><record>记录</record></r>".encode()), b"gzip"),
        (Response, "application/pdf", gzip.compress(b"%PDF-1.4 \x00\xff"), b"gzip"),
        (HtmlResponse, "text/html; charset=utf-8", page.encode("utf-8"), b""),
    ]
    ours = RecordingHttpCompressionMiddleware.from_crawler(get_crawler())
    scrapys = HttpCompressionMiddleware.from_crawler(get_crawler())
    for cls, content_type, body, encoding in cases:
        def response(cls: type[Response] = cls, content_type: str = content_type, body: bytes = body,
                     encoding: bytes = encoding) -> Response:
            headers = {"Content-Type": content_type, **({"Content-Encoding": encoding} if encoding else {})}
            return cls("http://portal.example/art/1.html", body=body, headers=headers, flags=["f"],
                       request=Request("http://portal.example/art/1.html"), protocol="HTTP/1.1")

        request = Request("http://portal.example/art/1.html")
        if encoding and cls is not Response:  # a compressed text response is handed on untyped (no charset guess)
            assert type(_untyped(request, response())) is Response
        got, want = ours.process_response(request, response()), scrapys.process_response(request, response())
        assert type(got) is type(want) and got.body == want.body and got.flags == want.flags
        assert got.headers.to_unicode_dict() == want.headers.to_unicode_dict()
        assert (got.url, got.status, got.protocol) == (want.url, want.status, want.protocol)
        if isinstance(want, TextResponse):
            assert isinstance(got, TextResponse)
            assert (got.encoding, got.text) == (want.encoding, want.text)
