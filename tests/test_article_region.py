"""The article region (spiders/article_region.py) gives the same raw release as the whole page, on every page we have.

Pages: every fixture page (tests/data/pages, the shared corpus next to the repository when present) and release
pages of the classic simulated portal and of variation seeds 1-40 (``simulator/variation.py``), each read once
through the region (what the crawl, replay and ``crawler extract`` use) and once as a whole page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from spiders import article_region, release_page
from spiders.decoding import decode_html
from spiders.release_page import parse_release_document
from tests.support.release_pages import simulated_pages

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "data" / "pages"
SEEDS = [None, *range(1, 41)]
PAGES_PER_SEED = 12


def _shared_corpus() -> list[Path]:
    for parent in REPO.parents:
        corpus = parent / "shared" / "corpus"
        if corpus.is_dir():
            return sorted(corpus.glob("*.html"))
    return []


def _same(text: str, url: str) -> bool:
    whole = parse_release_document(text, url, use_region=False)[0]
    region = parse_release_document(text, url)[0]
    assert region == whole, {key: (whole[key], region[key]) for key in whole if whole[key] != region[key]}
    return article_region.article_region(text) is not None


@pytest.mark.parametrize("vary", SEEDS, ids=lambda v: f"vary-{v}")
def test_region_and_whole_page_give_the_same_fields(vary: int | None) -> None:
    used = [_same(text, url) for url, text in simulated_pages(vary, PAGES_PER_SEED)]
    assert all(used), f"the region path was not taken for {used.count(False)} pages"  # else this proves nothing


def test_fixture_pages_give_the_same_fields() -> None:
    paths = sorted(FIXTURES.glob("*.html")) + _shared_corpus()
    assert len(paths) >= 10
    for path in paths:
        text = decode_html(path.read_bytes(), None).text
        _same(text, f"http://portal.example/art/2019/3/4/art_1_{len(path.name)}.html")


def _page(before: str, article: str, after: str) -> str:
    return (f"<html><head><meta name='ArticleTitle' content='区政府召开常务会议'><title>t</title></head><body>"
            f"{before}<div class='main'><div id='zoom'><!--ZJEG_RSS.content.begin--><p>正文内容。</p>"
            f"<!--ZJEG_RSS.content.end--></div>{article}</div>{after}</body></html>")


@pytest.mark.parametrize(("before", "after", "region"), [
    ("<div class='nav'><a href='/'>首页</a> | <a href='/a'>无障碍浏览</a> | <a>长者模式</a></div>",
     "<div>版权所有</div>", True),
    ("<div>发布日期：2019-03-04</div>", "", False),  # a label the scan would take before the article
    ("<div><span>2019-03-04</span></div>", "", False),  # a bare date near the body
    ("", "<div>浏览<span>次数</span>：12</div>", False),  # a label split by an inline tag
    ("", "<ul><li><a href='/f/a.pdf'>附件</a></li></ul>", False),  # an attachment link outside
    ("<div><script>var s='<!--ZJEG_RSS.content.begin-->';</script></div>", "", False),  # a marker outside
    ("<div><h1>标题</h1></div>", "", True),  # a title element outside: harmless while ArticleTitle gives the title
])
def test_what_outside_the_region_sends_to_the_whole_page(before: str, after: str, region: bool) -> None:
    text = _page(before, "<div class='share'>分享</div>", after)
    assert (article_region.article_region(text) is not None) is region
    _same(text, "http://portal.example/art/2019/3/4/art_1_2.html")


def test_a_title_element_outside_counts_when_no_meta_names_the_title() -> None:
    text = _page("<div><h1>区政府召开常务会议</h1></div>", "", "").replace("name='ArticleTitle'", "name='x'")
    found = article_region.article_region(text)
    assert found is not None and not found.title_safe()
    _same(text, "http://portal.example/art/2019/3/4/art_1_2.html")


def test_break_tags_are_the_parsers() -> None:
    parser = (release_page._BLOCK_TAGS | release_page._CELL_TAGS | release_page._OPAQUE_TAGS
              | release_page._SKIP_TAGS)
    assert set(article_region.BREAK_TAGS) == parser
