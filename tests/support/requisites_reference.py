"""The requisites reading before lexbor (issue 15): lxml's parse of the whole page, walked for the same elements.

Kept as the tests' reference for `spiders.requisites.requisite_links` (lexbor): on the simulated portals and the
fixture pages both readings give the same URLs in the same order.
"""

from __future__ import annotations

from lxml import etree
from lxml import html as lxml_html

from crawler.fetch.counter_guard import is_counter_url
from pipelines.html_parser import HTML_PARSER
from spiders.links import absolute_url, document_base, is_fetchable_href


def lxml_requisite_links(html: str, page_url: str) -> tuple[list[str], int] | None:
    """(URLs, malformed count) as the lxml reading gave them; None when lxml could not parse the page."""
    try:
        root = lxml_html.document_fromstring(html, parser=HTML_PARSER)
    except (etree.ParserError, ValueError):
        return None
    base = document_base(root, page_url)
    found: dict[str, None] = {}
    malformed = 0
    for element in root.iter("link", "script", "img"):
        if element.tag == "link":
            rel = (element.get("rel") or "").lower().split()
            ref = element.get("href") if "stylesheet" in rel else None
        else:
            ref = element.get("src")
        if not is_fetchable_href(ref):
            continue
        url = absolute_url(base, ref or "")
        if url is None:
            malformed += 1
        elif not is_counter_url(url):
            found.setdefault(url, None)
    return list(found), malformed
