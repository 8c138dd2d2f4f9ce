"""`pipelines.html_parser.fragment_root` (the boilerplate stage's and the list records' fragment parse) gives the
tree lxml's ``fragment_fromstring(create_parent="div")`` gives, on every body we have and on fragments made to
differ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from lxml import html as lxml_html
from scrapy.http import HtmlResponse

from pipelines import boilerplate, html_parser
from pipelines.html_parser import HTML_PARSER, fragment_root
from spiders.hanweb import build_release_item


def _lxml(body_html: str) -> Any:
    return lxml_html.fragment_fromstring(body_html.replace("\x00", ""), create_parent="div", parser=HTML_PARSER)


def _same_tree(body_html: str) -> None:
    ours, theirs = boilerplate._parse_fragment(body_html), _lxml(body_html)
    if "\x00" not in body_html:
        assert etree.tostring(fragment_root(body_html)) == etree.tostring(theirs)
    assert etree.tostring(ours, encoding="unicode") == etree.tostring(theirs, encoding="unicode"), body_html
    assert (ours.tag, ours.text, ours.tail, dict(ours.attrib)) == (theirs.tag, theirs.text, theirs.tail, {})
    assert ours.getparent() is None
    assert all(type(a) is type(b) for a, b in zip(ours.iter(), theirs.iter(), strict=True))


def _bodies() -> list[str]:
    from tests.support.release_pages import simulated_pages

    pages = [(url, text) for vary in (None, 3, 7, 12, 21, 33, 40) for url, text in simulated_pages(vary, 8)]
    files = sorted(Path(__file__).parent.joinpath("data", "pages").glob("*.html"))
    assert len(files) >= 10
    pages += [("http://www.example.gov.cn/art/2020/1/1/art_1_2.html", path.read_text(encoding="utf-8"))
              for path in files]
    bodies = []
    for url, text in pages:
        item = build_release_item(HtmlResponse(url, body=text.encode("utf-8"), encoding="utf-8"), "t", {})
        if item.body_html:
            bodies.append(item.body_html)
    return bodies


def test_every_body_we_have_parses_to_lxmls_tree() -> None:
    bodies = _bodies()
    assert len(bodies) >= 60
    for body_html in bodies:
        _same_tree(body_html)


@pytest.mark.parametrize("body_html", [
    "text before <p>a</p> after",
    "   \n <p>a</p>",
    "<p>a</p><body class='x' id='hiddenLocation'><p>b</p>",
    "<p>a</p></body><p>after the body</p>",
    "</html><p>b</p>",
    "<html><body><p>whole</p></body></html>",
    "<!DOCTYPE html><p>doc</p>",
    "  <HTML><p>upper</p>",
    "<!-- c --><p>a\x00b</p>",
    "<head><title>t</title></head><p>x</p>",
    "<frameset><frame src=a></frameset>",
    "plain text only",
    "<table><tr><td>cell</td></tr></table>tail",
    "",
    "\x00",
])
def test_fragments_made_to_differ_parse_as_lxml_parses_them(body_html: str) -> None:
    try:
        expected = _lxml(body_html)
    except (etree.ParserError, AssertionError) as exc:
        with pytest.raises(type(exc)):
            boilerplate._parse_fragment(body_html)
        return
    assert expected is not None
    _same_tree(body_html)


def test_the_whole_document_test_is_lxmls() -> None:
    assert html_parser._LOOKS_LIKE_DOCUMENT.__self__.pattern == (  # type: ignore[attr-defined]
        lxml_html._looks_like_full_html_unicode.__self__.pattern)  # type: ignore[attr-defined]


def test_a_nul_reads_as_lxml_reads_it() -> None:
    for fragment in ("<p>a\x00b</p>c", "\x00<p>x</p>", "a\x00"):  # the list records do not drop NULs first
        assert etree.tostring(fragment_root(fragment)) == etree.tostring(
            lxml_html.fragment_fromstring(fragment, create_parent="div"))
