"""The requisite scan (`spiders.requisite_scan`) reads a superset of what lexbor's parse loads, or gives up; and a
finder that skips the parse when every candidate is requested already requests and counts exactly what it did."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler

from crawler.fetch.asset_scope import AssetScope
from spiders import requisites
from spiders.links import is_fetchable_href
from spiders.requisite_scan import requisite_candidates
from spiders.requisites import RequisiteFinder, _origin, _resolve, requisite_links

PAGE_URL = "http://portal.example/art/2020/1/1/art_1_2.html"


def _resolved(html: str, page_url: str = PAGE_URL) -> set[str | None] | None:
    candidates = requisite_candidates(html)
    if candidates is None:
        return None
    origin = _origin(page_url)
    return {_resolve(page_url, origin, ref) for ref in candidates if is_fetchable_href(ref)}


def _assert_superset(html: str, page_url: str = PAGE_URL) -> bool:
    """lexbor's links are among the scan's candidates; False when the scan gave up."""
    candidates = _resolved(html, page_url)
    if candidates is None:
        return False
    loaded = set(requisite_links(html, page_url)[0])
    assert loaded <= candidates, (html, loaded - candidates)
    return True


@pytest.mark.parametrize(("html", "expected"), [
    ('<img src="a.png"><IMG SRC=b.png><image src=\'c.png\'/>', ["a.png", "b.png", "c.png"]),
    ('<img alt="x>y" src="a.png">', ["a.png"]),  # ">" inside a quoted value does not end the tag
    ('<img alt="x"src="a.png">', ["a.png"]),  # no space between attributes
    ("<img/src=a.png>", ["a.png"]),
    ('<img src="a.png" src="b.png">', ["a.png"]),  # the first of a repeated attribute
    ('<img data-src="a.png" xsrc="b.png">', []),
    ('<img src = "a.png" >', ["a.png"]),
    ("<img src=a.png?x=1&y=2>", ["a.png?x=1&y=2"]),  # no reference named y...
    ('<img src="a.png?x=1&amp;y=2">', ["a.png?x=1&y=2"]),
    ('<img src="a.png?x=1&copy=2">', ["a.png?x=1&copy=2"]),  # a legacy name followed by "=" stays
    ('<img src="a.png?x=1&notin;">', ["a.png?x=1\u2209"]),
    ('<img src="a.png?x=1&notx=2">', ["a.png?x=1&notx=2"]),  # ... or by a letter or digit stays
    ('<link rel="stylesheet" href="s.css"><link rel="icon" href="i.ico"><link rel="Alternate StyleSheet" '
     'href="t.css"><link href="u.css">', ["s.css", "t.css"]),
    ('<script src="j.js"></script><script>var i = "<img src=k.png>";</script>', ["j.js", "k.png"]),
    ("<!-- <img src=c.png> --><imgs src=d.png><img\tsrc=e.png>", ["c.png", "e.png"]),
    ('<img src="unclosed.png', ["unclosed.png"]),
    ("<img src>", []),
])
def test_candidates_as_the_tokenizer_reads_them(html: str, expected: list[str]) -> None:
    assert requisite_candidates(html) == expected
    _assert_superset(html)


@pytest.mark.parametrize("html", [
    '<base href="/sub/"><img src="a.png">',
    '<img src="a.png?x=1&#38;y=2">',  # a numeric reference
    '<img src="a.png?x=1&copy">',  # a legacy reference that is replaced
    '<img src="a\r\n.png">',
    '<img src="a\x00.png">',
    "<p>" + "<b>" * 10_001,
])
def test_the_scan_gives_up_where_it_would_not_read_as_the_parser(html: str) -> None:
    assert requisite_candidates(html) is None


def _real_pages() -> list[tuple[str, str]]:
    from benchmarks.common import release_pages
    from tests.support.release_pages import simulated_pages

    pages = [(url, body.decode("gb18030" if "gb" in ctype.lower() else "utf-8"))
             for url, body, ctype, _ in release_pages(12, 600)]
    for vary in (3, 7, 12, 21, 33, 40):
        pages += list(simulated_pages(vary, 8))
    here = Path(__file__).parent
    files = sorted(here.joinpath("data", "pages").glob("*.html"))
    files += sorted(here.parent.parent.joinpath("shared", "corpus").glob("*.html"))
    assert len(files) >= 10
    return pages + [(PAGE_URL, path.read_text(encoding="utf-8", errors="replace")) for path in files]


def test_on_every_page_we_have_the_scan_holds_what_lexbor_loads() -> None:
    pages = _real_pages()
    scanned = sum(_assert_superset(text, url) for url, text in pages)
    assert scanned >= len(pages) * 0.9  # it gives up on few real pages (each costs the parse as before)


# -- a seeded fuzzer: tag soup made of what the tokenizer and tree builder treat specially ---------------------
_TAGS = ["img", "IMG", "iMg", "image", "script", "SCRIPT", "link", "LINK", "base", "imgx", "scripts", "lin\u212a"]
_NAMES = ["src", "SRC", "sRc", "href", "HREF", "rel", "REL", "alt", "data-src", "=src", "s\x00rc", "'src", '"a',
          "src/", "x"]
_VALUES = ["a.png", "/b.css", "c d.js", "stylesheet", "STYLESHEET", "alternate stylesheet", "icon", "e>f.png",
           "g'h.png", 'i"j.png', "k&amp;l.png", "m&copy=n.png", "o&notin;p.png", "q&artid=1", "r&#38;s.png",
           "t&copy", "u\r\nv.png", "w\x00x.png", "", " ", "\x0by.png", "\xa0z.png", "data:image/png;base64,AA",
           "javascript:void(0)", "//other.example/a.js", "http://[bad/1.jpg", "../../up.png", "?q=1"]
_SEPARATORS = [" ", "", "\t", "\n", "\r\n", "/", " / ", "\x0c", "\x0b", "\xa0"]
_OTHER = ["<template>", "</template>", "<!--", "-->", "--!>", "<svg>", "</svg>", "<math>", "<textarea>",
          "</textarea>", "<title>", "</title>", "<style>", "</style>", "<noscript>", "</noscript>", "<table>",
          "<select>", "</select>", "<plaintext>", "<xmp>", "</xmp>", "<p>", "text", "<", ">", "&", "'", '"',
          "<!DOCTYPE html>", "<![CDATA[", "]]>", "<?x ?>", "</script>", "<iframe srcdoc='<img src=in.png>'>"]


def _attribute(rng: random.Random) -> str:
    name = rng.choice(_NAMES)
    value = rng.choice(_VALUES)
    quote = rng.choice(['"', "'", "", "", '"'])
    if quote == "" and rng.random() < 0.5:
        return name  # no value
    spaces = rng.choice(["", " ", "\n"]), rng.choice(["", " ", "\t"])
    close = quote if rng.random() < 0.95 else ""
    return f"{name}{spaces[0]}={spaces[1]}{quote}{value}{close}"


def _tag_soup(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(1, 14)):
        if rng.random() < 0.55:
            attributes = [_attribute(rng) for _ in range(rng.randint(0, 4))]
            body = "".join(rng.choice(_SEPARATORS) + attribute for attribute in attributes)
            parts.append(f"<{rng.choice(_TAGS)}{rng.choice(_SEPARATORS[:4])}{body}{rng.choice(['>', '/>', ' >', ''])}")
        else:
            parts.append(rng.choice(_OTHER))
    return "".join(parts)


@pytest.mark.parametrize("seed", range(8))
def test_fuzzed_tag_soup_the_scan_holds_what_lexbor_loads(seed: int) -> None:
    rng = random.Random(seed)
    scanned = 0
    for _ in range(500):
        scanned += _assert_superset(_tag_soup(rng))
    assert scanned >= 150  # the fuzzer reaches the scan, not only its ways of giving up


# -- the finder: the same requests and counts with the scan as with the parse alone ----------------------------
def _finder(**settings: Any) -> RequisiteFinder:
    crawler = get_crawler(settings_dict={"REQUISITES_MAX_PER_PAGE": 50, "DEPTH_LIMIT": 3, **settings})
    scope = AssetScope(["portal.example", "127.0.0.1"], ())
    return RequisiteFinder(crawler, True, 1 << 20, scope, callback=print, errback=print)


def _requests_and_stats(finder: RequisiteFinder, pages: list[tuple[str, str, int]]) -> tuple[list[Any], dict]:
    from scrapy.http import HtmlResponse, Request

    made = []
    for url, text, depth in pages:
        response = HtmlResponse(url, body=text.encode("utf-8"), encoding="utf-8",
                                request=Request(url, meta={"depth": depth}))
        made += [(url, request.url, request.meta["depth"]) for request in finder.requests(response, text)]
    stats = {k: v for k, v in finder.crawler.stats.get_stats().items() if k.startswith(("requisites/", "links/"))}
    return made, stats


def test_the_finder_requests_and_counts_what_the_parse_alone_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(5)
    pages = [(url, text, rng.choice([0, 1, 2, 3])) for url, text in _real_pages()]
    pages *= 2  # the second time through, every requisite is requested already
    pages += [(PAGE_URL, _tag_soup(rng), 1) for _ in range(300)]
    with_scan, scan_stats = _requests_and_stats(_finder(), pages)
    skipped = scan_stats.pop("requisites/pages_not_parsed", 0)
    monkeypatch.setattr(RequisiteFinder, "_all_requested", lambda *args: False)
    parse_only, parse_stats = _requests_and_stats(_finder(), pages)
    assert with_scan == parse_only
    assert scan_stats == parse_stats
    assert skipped >= len(pages) // 3
    assert parse_stats.get("requisites/requested", 0) > 20


def test_lexbor_max_tags_and_the_scan_bound_agree() -> None:
    from spiders import requisite_scan

    assert requisite_scan.MAX_TAGS == requisites.LEXBOR_MAX_TAGS
