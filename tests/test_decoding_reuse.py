"""decode_html reusing Scrapy's decoding of a release page: the same DecodedPage as decoding it again, on every page
the suite has and on the cases where the two decodings would differ (a byte-order mark, UTF-16, a lying header)."""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from simulator import templates
from simulator.portal import SimulatedPortal
from simulator.server import encode_release, release_content_type
from spiders.decoding import _header_decoding, decode_html

REPO = Path(__file__).resolve().parents[1]
FIXTURES = sorted((REPO / "tests" / "data" / "pages").glob("*.html"))
HEADERS = [None, "text/html", "text/html; charset=utf-8", "text/html; charset=UTF-8", "text/html; charset=gbk",
           "text/html; charset=gb2312", "text/html; charset=iso-8859-1", "text/html; charset=utf-16",
           "text/html; charset=big5", "text/html; charset=bogus-9"]


def _simulated(vary: int | None, count: int = 12, releases: int = 240) -> Iterator[tuple[bytes, str | None]]:
    portal = SimulatedPortal(releases, vary or 0, vary=vary)
    for index in range(0, releases, releases // count):
        release = portal.release(index)
        body = encode_release(release, templates.release_page(portal, release, "127.0.0.1:8000"))
        yield body, release_content_type(release)


def _cases() -> Iterator[tuple[bytes, str | None]]:
    for vary in (None, 3, 7, 12, 21, 33):
        yield from _simulated(vary)
    for path in FIXTURES:
        body = path.read_bytes()
        yield from ((body, header) for header in HEADERS)
    text = "<html><head><meta charset='gbk'><title>通知</title></head><body>正文 发布日期：2024-01-01</body></html>"
    for body in (codecs.BOM_UTF8 + text.encode("utf-8"), text.encode("gbk"), text.encode("utf-8"),
                 codecs.BOM_UTF16_LE + text.encode("utf-16-le"), text.encode("utf-16-be")):
        yield from ((body, header) for header in HEADERS)


def _scrapy(body: bytes, header: str | None) -> HtmlResponse:
    return HtmlResponse("http://127.0.0.1:8000/art/2024/1/1/art_1_1.html", body=body,
                        headers={"Content-Type": header} if header else {})


def _decoded_by(response: HtmlResponse) -> Callable[[], tuple[str, str]]:
    return lambda: (response.encoding, response.text)


@pytest.mark.parametrize("index_and_case", list(enumerate(_cases())), ids=lambda c: f"case-{c[0]}")
def test_reusing_scrapys_decoding_gives_the_same_page(index_and_case: tuple[int, tuple[bytes, str | None]]) -> None:
    _index, (body, header) = index_and_case
    response = _scrapy(body, header)
    assert decode_html(body, header, lambda: (response.encoding, response.text)) == decode_html(body, header)


def test_the_simulated_pages_that_name_their_charset_are_decoded_once() -> None:
    reused = named = 0
    for body, header in _simulated(None, 40):
        response = _scrapy(body, header)
        named += "charset=" in (header or "")
        reused += _header_decoding(body, header, _decoded_by(response)) is not None
    assert named > 0 and reused == named


def test_no_reuse_across_a_byte_order_mark_or_utf16() -> None:
    text = "<p>正文</p>"
    response = _scrapy(codecs.BOM_UTF8 + text.encode("utf-8"), "text/html; charset=gbk")
    assert _header_decoding(response.body, "text/html; charset=gbk", lambda: (response.encoding, response.text)) is None
    body = text.encode("utf-16-be")
    response = _scrapy(body, "text/html; charset=utf-16")
    assert _header_decoding(body, "text/html; charset=utf-16", lambda: (response.encoding, response.text)) is None
