"""One shared lxml HTML parser whose elements are plain ``lxml.html.HtmlElement``s, looked up in C.

``lxml.html``'s own parser picks each element's class with a Python callback (``HtmlElementClassLookup``): every
element proxy the extraction touches pays a Python call, about a tenth of the parse-and-scan time of a release
page. The extraction uses only ``HtmlElement`` methods (``text_content``, ``drop_tree``, ``iterlinks``, …), never
the form/input/label subclasses, so a C-level default lookup gives the same results for less.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from lxml import html as lxml_html

HTML_PARSER = lxml_html.HTMLParser()
HTML_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment, pi=lxml_html.HtmlProcessingInstruction,
    entity=lxml_html.HtmlEntity,
))


def text_content(element: Any) -> str:
    """``element.text_content()`` (its text and its descendants' text, no comment or processing instruction), in
    about 60% of the time: libxml2's text serializer instead of an XPath ``string()`` call, as a plain ``str``.
    For elements only: ``text_content()`` of a comment is its text, this gives ""."""
    return etree.tostring(element, method="text", encoding="unicode", with_tail=False)
