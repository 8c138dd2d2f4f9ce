"""Shortcuts around lxml calls give what the calls give, on every element of every page we have:
`pipelines.html_parser.text_content` (``text_content()``) and `spiders.release_page.id_and_class_of` (an XPath)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from pipelines.html_parser import HTML_PARSER, text_content
from spiders.release_page import id_and_class_of


def _pages() -> list[str]:
    from tests.support.release_pages import simulated_pages

    pages = [text for vary in (None, 3, 12, 21, 40) for _, text in simulated_pages(vary, 6)]
    files = sorted(Path(__file__).parent.joinpath("data", "pages").glob("*.html"))
    assert len(files) >= 10
    return pages + [path.read_text(encoding="utf-8") for path in files]


def test_text_content_is_lxmls_on_every_element_of_every_page() -> None:
    checked = 0
    for page in _pages():
        root = lxml_html.document_fromstring(page, parser=HTML_PARSER)
        for element in root.iter():
            if isinstance(element.tag, str):
                assert text_content(element) == element.text_content()
                checked += 1
    assert checked > 5000


def test_text_content_leaves_out_comments_and_keeps_entities_and_cdata_text() -> None:
    root = lxml_html.fragment_fromstring(
        "<div>a<!-- hidden -->b<?pi x?>c<script>s()</script>&amp;&#160;<p>d<br>e</p>f</div><i>tail</i>",
        create_parent="section", parser=HTML_PARSER)
    div = root[0]
    assert text_content(div) == div.text_content() == "abcs()&\xa0def"
    xml = etree.fromstring("<r>a<![CDATA[<b>]]>c<!-- x --></r>")
    assert text_content(xml) == "a<b>c"
    assert type(text_content(div)) is str


def test_id_and_class_of_is_the_xpath_it_replaces() -> None:
    xpath = etree.XPath("descendant-or-self::*[@id or @class][not(self::a or self::meta or self::title)]")
    found = 0
    for page in [*_pages(), '<div id=""><a id="x">a</a><meta class="m"><p class="">p</p><!-- c --></div>']:
        root = lxml_html.document_fromstring(page, parser=HTML_PARSER)
        for start in (root, *root.iter("body", "div")):
            ours = list(id_and_class_of(start))
            assert [node for node, _, _ in ours] == xpath(start)
            assert all((i, c) == (node.get("id"), node.get("class")) for node, i, c in ours)
            found += len(ours)
    assert found > 1000
