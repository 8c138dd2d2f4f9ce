"""One shared lxml HTML parser whose elements are plain ``lxml.html.HtmlElement``s, looked up in C.

``lxml.html``'s own parser picks each element's class with a Python callback (``HtmlElementClassLookup``): every
element proxy the extraction touches pays a Python call, about a tenth of the parse-and-scan time of a release
page. The extraction uses only ``HtmlElement`` methods (``text_content``, ``drop_tree``, ``iterlinks``, …), never
the form/input/label subclasses, so a C-level default lookup gives the same results for less.
"""

from __future__ import annotations

import re
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


def fragment_root(html: str) -> Any:
    """``lxml.html.fragment_fromstring(html, create_parent="div", parser=HTML_PARSER)``, with the parsed ``<body>``
    made the ``<div>`` instead of moving its children into a new one.

    lxml makes that new ``<div>`` with ``lxml.html``'s own parser, so every element proxy of the moved tree was then
    looked up by a Python callback (see the module docstring). The same tree, text and parentless root result: lxml
    keeps the body's text when it is not blank and nothing else of the body element (its attributes and tail are
    cleared too, should a libxml2 ever set them). A fragment that lxml does not wrap (one that starts like a whole
    document) or whose document has not one body goes to lxml as before, with its errors.
    """
    if _LOOKS_LIKE_DOCUMENT(html):
        return lxml_html.fragment_fromstring(html, create_parent="div", parser=HTML_PARSER)
    document = lxml_html.document_fromstring(f"<html><body>{html}</body></html>", parser=HTML_PARSER)
    bodies = [element for element in document if element.tag == "body"]
    if document.tag != "html" or len(bodies) != 1:
        return lxml_html.fragment_fromstring(html, create_parent="div", parser=HTML_PARSER)
    root = bodies[0]
    document.remove(root)
    root.tag = "div"
    root.attrib.clear()
    root.tail = None
    if not (root.text and root.text.strip()):
        root.text = None
    return root


#: ``lxml.html``'s test of whether a fragment is a whole document, which it then parses unwrapped (lxml 6's
#: ``_looks_like_full_html_unicode``; tests/test_boilerplate_fragment.py holds the two equal)
_LOOKS_LIKE_DOCUMENT = re.compile(r"^\s*<(?:html|!doctype)", re.I).match
