"""`spiders.links.absolute_url`: one malformed link is refused, never raised (issue 11, "one bad link")."""

from __future__ import annotations

import pytest

from spiders.links import absolute_url, is_fetchable_href

BASE = "http://127.0.0.1:8000/col/col101/index.html"


@pytest.mark.parametrize("href", ["http://[bad/x.html", "//[x/y", "http://[bad/附件.pdf", "http://a.example:99999/x",
                                  "http://a b.example/x", "javascript:void(0)", "mailto:x@example.org", "#top", "",
                                  "   ", "ftp://example.org/x"])
def test_refused(href: str) -> None:
    assert absolute_url(BASE, href) is None


@pytest.mark.parametrize(("href", "expected"), [
    ("/art/2016/8/15/art_101_7.html", "http://127.0.0.1:8000/art/2016/8/15/art_101_7.html"),
    ("../col102/index.html#x", "http://127.0.0.1:8000/col/col102/index.html"),
    (" \n//other.example/a?b=1 ", "http://other.example/a?b=1"),
    ("附件/通知.pdf", "http://127.0.0.1:8000/col/col101/附件/通知.pdf"),
    ("HTTPS://Example.org/x", "HTTPS://Example.org/x"),
])
def test_resolved(href: str, expected: str) -> None:
    assert absolute_url(BASE, href) == expected


def test_fetchable() -> None:
    assert is_fetchable_href("/x") and not is_fetchable_href(" JavaScript:go()")
