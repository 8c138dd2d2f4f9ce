"""Bytes -> text decisions, including charset lies."""

from __future__ import annotations

import json
from pathlib import Path

from spiders.decoding import ALLOWED_CHARSETS, decode_html

GBK_PAGE = (
    '<html><head><meta charset="gb2312"><title>纪念朱镕基同志</title></head>'
    "<body><div id=zoom><p>朱镕基同志的讲话精神，区政府召开常务会议研究部署。</p></div></body></html>"
)


def test_gbk_labelled_gb2312_decodes_as_gb18030() -> None:
    body = GBK_PAGE.encode("gbk")  # 镕 is outside GB2312
    page = decode_html(body, "text/html; charset=gb2312")
    assert page.text == GBK_PAGE
    assert "\ufffd" not in page.text
    assert (page.header_charset, page.meta_charset, page.used) == ("gb2312", "gb2312", "gb18030")
    assert page.conflict is False


def test_four_byte_gb18030_character() -> None:
    text = GBK_PAGE.replace("</p>", "𠮷</p>")
    page = decode_html(text.encode("gb18030"), "text/html; charset=GBK")
    assert "𠮷" in page.text and page.used == "gb18030"


def test_header_says_utf8_body_is_gbk() -> None:
    body = GBK_PAGE.replace('<meta charset="gb2312">', "").encode("gbk")
    page = decode_html(body, "text/html; charset=utf-8")
    assert page.used == "gb18030"
    assert page.conflict is True
    assert "朱镕基" in page.text and "\ufffd" not in page.text
    assert page.header_charset == "utf-8" and page.meta_charset is None


def test_meta_only_gbk() -> None:
    page = decode_html(GBK_PAGE.replace("gb2312", "gbk").encode("gbk"), "text/html")
    assert (page.header_charset, page.meta_charset, page.used) == (None, "gbk", "gb18030")
    assert "朱镕基" in page.text


def test_late_meta_beyond_4096_bytes() -> None:
    body = (
        b"<html><head><script>" + b"var a = 1;" * 600 + b'</script><meta charset="gb2312"></head><body>'
        + "政府信息公开".encode("gbk") + b"</body></html>"
    )
    page = decode_html(body, None)
    assert page.used == "gb18030" and "政府信息公开" in page.text


def test_utf8_page_with_header_and_meta() -> None:
    text = '<html><head><meta charset="utf-8"></head><body>滨江区 café</body></html>'
    page = decode_html(text.encode("utf-8"), "text/html; charset=UTF-8")
    assert (page.text, page.used, page.header_charset, page.meta_charset) == (text, "utf-8", "utf-8", "utf-8")


def test_bom_wins_over_header_and_is_stripped() -> None:
    page = decode_html(b"\xef\xbb\xbf<p>" + "中文".encode() + b"</p>", "text/html; charset=gbk")
    assert page.text == "<p>中文</p>" and page.used == "utf-8"


def test_latin1_label_on_utf8_bytes_is_utf8() -> None:
    page = decode_html("<p>中文 café</p>".encode(), "text/html; charset=iso-8859-1")
    assert page.text == "<p>中文 café</p>" and page.used == "utf-8"


def test_ascii_label_reports_windows_1252() -> None:
    page = decode_html(b"<p>plain</p>", "text/html; charset=us-ascii")
    assert page.used == "windows-1252" and page.text == "<p>plain</p>"


def test_unknown_label_falls_back() -> None:
    page = decode_html("<p>区政府</p>".encode(), "text/html; charset=x-nonsense")
    assert page.used == "utf-8" and page.text == "<p>区政府</p>"
    assert page.header_charset == "x-nonsense"


def test_utf16_bom() -> None:
    page = decode_html("\ufeff<p>区政府</p>".encode("utf-16-le"), None)
    assert page.used == "utf-16-le" and page.text == "<p>区政府</p>"


def test_a_stray_bad_byte_does_not_flip_a_utf8_page() -> None:
    text = "<html><body>" + "<p>区政府召开常务会议，研究部署近期重点工作。</p>" * 200 + "</body></html>"
    body = text.encode("utf-8") + b"\xff"
    page = decode_html(body, "text/html; charset=utf-8")
    assert page.used == "utf-8" and page.conflict is False
    assert page.text.count("\ufffd") == 1


def test_allowed_charsets_match_schema_enum() -> None:
    schema_path = Path(__file__).parents[1] / "pipelines" / "schemas" / "release-v1.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["charset"]["properties"]["used"]["enum"]) == ALLOWED_CHARSETS
