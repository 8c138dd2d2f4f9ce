"""Page requisites: site-wide CSS/JS once per crawl, body images, the asset host one hop, never counters or iframes;
and pywb replays a release page's stylesheet and image, and an attachment, from the archive."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archives.pywb import PywbError, Wayback, build_collection
from simulator.server import STATIC_PATHS, attachment_body, static_body
from spiders import requisites
from spiders.requisites import requisite_links, requisite_urls
from tests.support.asset_crawl import LIMIT, AssetCrawl, asset_crawl

SITE_WIDE = ("/images/1/hanweb.css", "/images/1/css.css", "/script/page.css", "/module/jslib/jquery/jquery.js",
             "/images/1/qh_js.js", "/script/pagecontrol.js", "/images/1/logo.png")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> AssetCrawl:
    result = asset_crawl(tmp_path_factory.getbasetemp())
    assert result.returncode == 0, result.output[-3000:]
    return result


def test_requisites_are_taken_from_the_page_and_never_counters_or_iframes() -> None:
    page = """<html><head><base href="http://portal.example/sub/">
    <link rel="stylesheet" href="/a.css"><link rel="canonical" href="/canon.html"><link rel="icon" href="i.ico">
    <script src="j.js"></script><script src="/module/visitcount/articlehits.jsp?artid=1"></script>
    <script>document.write(1)</script></head><body><img src="p.jpg"><img src="data:image/png;base64,AA==">
    <iframe src="/module/visitcount/visit.jsp?type=3"></iframe><iframe src="/col/col1/index.html"></iframe>
    <img src="/vc/vc/interface/artcount/artcount.jsp?i_articleid=1"><img src="p.jpg#x"></body></html>"""
    assert requisite_urls(page, "http://portal.example/art/1.html") == [
        "http://portal.example/a.css", "http://portal.example/sub/j.js", "http://portal.example/sub/p.jpg"]


def test_lexbor_finds_what_lxml_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    # The crawl reads requisites with lexbor (an HTML5 parser) instead of a second, whole-page lxml parse; lxml
    # reads pages of more than LEXBOR_MAX_TAGS tags. Both must give the same links on every page we have.
    from benchmarks.common import release_pages
    from tests.support.release_pages import simulated_pages

    pages = [(url, body.decode("gb18030" if "gb" in ctype.lower() else "utf-8"))
             for url, body, ctype, _ in release_pages(12, 600)]
    for vary in (3, 7, 12, 21, 33, 40):
        pages += list(simulated_pages(vary, 8))
    url = "http://www.example.gov.cn/art/2020/1/1/art_1_2.html"
    fixtures = sorted(Path(__file__).parent.joinpath("data", "pages").glob("*.html"))
    assert len(fixtures) >= 10
    pages += [(url, path.read_text(encoding="utf-8")) for path in fixtures]
    by_lexbor = [requisite_links(text, page_url) for page_url, text in pages]
    monkeypatch.setattr(requisites, "LEXBOR_MAX_TAGS", -1)
    by_lxml = [requisite_links(text, page_url) for page_url, text in pages]
    for (page_url, _), lexbor, lxml in zip(pages, by_lexbor, by_lxml, strict=True):
        assert lexbor == lxml, page_url
    assert sum(len(urls) for urls, _ in by_lxml) > 100  # the comparison says something


def test_a_page_of_very_many_tags_is_read_by_lxml(monkeypatch: pytest.MonkeyPatch) -> None:
    # lexbor's time grows with the square of the nesting depth: a hostile page must not reach it
    def refuse(html: str) -> None:
        raise AssertionError("lexbor was given a page over LEXBOR_MAX_TAGS")

    monkeypatch.setattr(requisites, "_lexbor_elements", refuse)
    deep = '<link rel="stylesheet" href="/deep.css">' + "<div>" * (requisites.LEXBOR_MAX_TAGS + 1)
    assert requisite_urls(deep, "http://portal.example/art/1.html") == ["http://portal.example/deep.css"]
    with pytest.raises(AssertionError, match="lexbor was given"):
        requisite_urls("<div>" * 10 + '<img src="/a.png">', "http://portal.example/art/1.html")


def test_an_xhtml_page_with_an_xml_declaration_has_its_requisites_found() -> None:
    page = ('<?xml version="1.0" encoding="UTF-8"?>\n<html><head><link rel="stylesheet" href="/x.css"></head>'
            '<body><p>正文</p><img src="/i.png"></body></html>')
    assert requisite_urls(page, "http://portal.example/art/1.html") == [
        "http://portal.example/x.css", "http://portal.example/i.png"]


def test_requisites_are_read_as_a_browser_reads_the_page() -> None:
    # template content loads nothing; a malformed link is counted, not fatal; the first <base> with a URL rules
    page = ('<html><head><base href="http://[bad/"><script src="/a.js"></script></head><body>'
            '<template><img src="/tpl.png"></template><img src="http://[bad/1.jpg"><img src=" /b.png ">'
            '<noscript><img src="/ns.png"></noscript></body></html>')
    assert requisite_links(page, "http://portal.example/art/1.html") == (
        ["http://portal.example/a.js", "http://portal.example/b.png", "http://portal.example/ns.png"], 1)


def test_site_wide_css_and_js_appear_once_per_crawl(run: AssetCrawl) -> None:
    responses = run.by_url("response")
    base = run.base_url.rstrip("/")
    for path in SITE_WIDE:
        records = responses.get(base + path, [])
        assert len(records) == 1, (path, len(records))
        assert records[0].payload == static_body(path)
    share = f"http://{run.asset_host}/jcms_files/jcms1/web1/site/script/1/share.js"
    assert len(responses.get(share, [])) == 1, "the asset host's site-wide script"
    assert len(run.rows) == run.portal.releases  # ... however many releases load them


def test_body_images_are_archived_and_nothing_else_is_followed(run: AssetCrawl) -> None:
    responses = run.by_url("response")
    base = run.base_url.rstrip("/")
    with_image = [run.portal.release(i) for i in range(run.portal.releases) if run.portal.release(i).image]
    assert with_image
    for release in with_image:
        records = responses.get(f"{base}/picture/0/{release.article_id}.jpg", [])
        assert len(records) == 1 and records[0].payload.startswith(b"\xff\xd8")
    assert run.sim_stats["counter_hits"] == 0
    fetched = {urlsplit(url).path for url in responses}
    assert not any("visit" in p or "articlehits" in p for p in fetched)
    # only pages, lists, robots.txt, attachments and requisites: nothing from the asset host but its files
    asset_paths = {urlsplit(u).path for u in responses if urlsplit(u).hostname == "127.0.0.2"}
    assert asset_paths and all(p.startswith("/jcms_files/") or p == "/robots.txt" for p in asset_paths)
    static = {p for p in fetched if p in STATIC_PATHS}
    assert static >= set(SITE_WIDE)


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_pywb_replays_a_release_pages_image_and_stylesheet_and_an_attachment(run: AssetCrawl, tmp_path) -> None:
    try:
        build_collection(tmp_path, "assets", sorted(run.warc_dir.glob("*.warc.gz")))
    except PywbError as exc:
        pytest.fail(f"pywb is needed for this test (make install): {exc}")
    row = next(r for r in run.rows if run.portal.find(urlsplit(r["url"]).path).image)
    stamp = re.sub(r"\D", "", row["fetched_at"])[:14]
    release = run.portal.find(urlsplit(row["url"]).path)
    base = run.base_url.rstrip("/")
    attachment = next(a for r in run.rows for a in r["attachments"] or []
                      if a["warc"] and urlsplit(a["url"]).hostname == "127.0.0.2")
    with Wayback(tmp_path) as wayback:
        status, page = _get(f"{wayback.base_url}/assets/{stamp}mp_/{row['url']}")
        assert status == 200, wayback.log_tail()
        text = page.decode("utf-8", "replace")
        # the replayed page asks the archive, not the live site, for its stylesheet and body image
        for path in ("/images/1/hanweb.css", f"/picture/0/{release.article_id}.jpg"):
            rewritten = re.search(r'(?:href|src)="(/assets/\d+\w*_/' + re.escape(base + path) + ')"', text)
            assert rewritten, path
            status, body = _get(wayback.base_url + rewritten.group(1))
            assert status == 200 and body == static_body(path), path
        filename = attachment["url"].rsplit("/", 1)[1]
        status, body = _get(f"{wayback.base_url}/assets/{stamp}id_/{attachment['url']}")
        assert status == 200 and body == attachment_body(filename) and len(body) <= LIMIT
