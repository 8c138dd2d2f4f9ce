"""Catalogue cases 19-26 (RELIABILITY.md 2.3, encodings of Chinese pages).

One real crawl serves pages whose charset labels lie; the WARC keeps their bytes and the release row records the
decision in ``charset`` (``header``, ``meta``, ``used``). Label and URL handling are also tested directly.
"""

from __future__ import annotations

import pytest
import scrapy
from warcio.archiveiterator import ArchiveIterator

from archives.http_record import ascii_uri
from spiders.decoding import decode_html
from spiders.hanweb_lists import parse_dataproxy
from tests.support.fault_crawl import FaultCrawl, run_fault_crawl
from tests.support.faultserver import FaultServer, release_path, respond
from tests.support.invariants import assert_archive_invariants

TEXT = "关于做好朱镕基同志纪念活动的通知，政务公开，信息公开目录，依申请公开。" * 3
TEXT_4BYTE = TEXT + "𠮷野家"


def page(body_text: str, meta: str | None = None, prefix: str = "") -> str:
    meta_tag = f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    return (f"<html><head>{prefix}{meta_tag}<title>编码测试</title></head><body><div class=\"title\">编码测试</div>"
            f"<div id=\"zoom\"><p>{body_text}</p></div></body></html>")


CASES: dict[str, tuple[bytes, str | None]] = {
    # case 19: header says UTF-8, the body is GBK
    "utf8_header_gbk_body": (page(TEXT, "gbk").encode("gbk"), "text/html; charset=utf-8"),
    # case 20: meta gb2312, characters outside GB2312 (镕) and a 4-byte GB18030 one (𠮷)
    "gb2312_meta_gb18030_body": (page(TEXT_4BYTE, "gb2312").encode("gb18030"), "text/html"),
    # case 21: UTF-8 BOM against a gbk header
    "bom_vs_header": (b"\xef\xbb\xbf" + page(TEXT).encode("utf-8"), "text/html; charset=gbk"),
    # case 22: the meta charset after 5 kB of inline script, no header charset
    "late_meta": (page(TEXT, "gb2312", prefix="<script>var x='" + "a" * 5000 + "';</script>").encode("gbk"),
                  "text/html"),
    # case 26: numeric character references that are not characters
    "bad_ncr": (page("坏引用&#xD800;与&#0;与&#x110000;与&#65533;结束").encode("utf-8"), "text/html; charset=utf-8"),
    # case 25: served at a URL with a Chinese path, a Chinese query and a space
    "chinese_url": (page(TEXT).encode("utf-8"), "text/html; charset=utf-8"),
}


class Enc:
    crawl: FaultCrawl
    urls: dict[str, str]
    fs: FaultServer


@pytest.fixture(scope="module")
def enc(tmp_path_factory: pytest.TempPathFactory) -> Enc:
    with FaultServer() as fs:
        urls = {}
        for key, (body, content_type) in CASES.items():
            path = release_path(key)
            fs.route(path, respond(200, body, [("Content-Type", content_type)] if content_type else []))
            urls[key] = fs.url(path)
        urls["chinese_url"] = urls["chinese_url"].split("?")[0] + "?lm=通知公告&p=1 2"
        crawl = run_fault_crawl(tmp_path_factory.mktemp("enc") / "out", urls=list(urls.values()))
        result = Enc()
        result.crawl, result.urls, result.fs = crawl, urls, fs
    return result


def row(enc: Enc, key: str) -> dict:
    found = [r for r in enc.crawl.rows() if r["url"].split("?")[0] == enc.urls[key].split("?")[0]]
    assert len(found) == 1, (key, enc.crawl.output[-2000:])
    return found[0]


def stored_body(enc: Enc, url: str) -> bytes:
    for path in enc.crawl.warc_files:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == url:
                    return record.raw_stream.read()
    raise AssertionError(f"no response record for {url}")


def test_crawl_keeps_the_invariants(enc: Enc) -> None:
    assert enc.crawl.returncode == 0 and enc.crawl.stats["finish_reason"] == "finished"
    assert_archive_invariants(enc.crawl.out_dir)


def test_case19_header_utf8_body_gbk_lie_noticed_and_recorded(enc: Enc) -> None:
    r = row(enc, "utf8_header_gbk_body")
    assert r["charset"] == {"header": "utf-8", "meta": "gbk", "used": "gb18030"}
    assert r["body_text"] == TEXT and "\ufffd" not in r["body_text"]
    assert stored_body(enc, r["url"]) == CASES["utf8_header_gbk_body"][0]  # the WARC keeps the bytes


def test_case20_outside_gb2312_decoded_as_gb18030_and_round_trips(enc: Enc) -> None:
    r = row(enc, "gb2312_meta_gb18030_body")
    assert r["charset"]["used"] == "gb18030" and r["charset"]["meta"] == "gb2312"
    assert r["body_text"] == TEXT_4BYTE and "镕" in r["body_text"] and "𠮷" in r["body_text"]


def test_case21_bom_wins_over_the_header_and_is_stripped(enc: Enc) -> None:
    r = row(enc, "bom_vs_header")
    assert r["charset"] == {"header": "gbk", "meta": None, "used": "utf-8"}
    assert r["body_text"] == TEXT and not r["title"].startswith("\ufeff")


def test_case22_late_meta_charset_past_4096_bytes(enc: Enc) -> None:
    r = row(enc, "late_meta")
    assert r["charset"] == {"header": None, "meta": "gb2312", "used": "gb18030"}
    assert r["body_text"] == TEXT


@pytest.mark.parametrize("label", ['"GBK"', "GB2312;", "x-gbk", "gb_2312-80", "GB18030", "cp936", "unicode",
                                   "no-such-charset"])
def test_case23_odd_charset_labels_resolve_or_fall_back(label: str) -> None:
    body = page(TEXT).encode("gbk")
    decoded = decode_html(body, f"text/html; charset={label}")
    assert decoded.used == "gb18030"
    assert TEXT in decoded.text and "\ufffd" not in decoded.text
    assert decoded.header_charset == label.strip('";').lower()


@pytest.mark.parametrize("label", ["utf8", "UTF-8", "utf-8;"])
def test_case23_utf8_aliases(label: str) -> None:
    decoded = decode_html(page(TEXT).encode("utf-8"), f"text/html; charset={label}")
    assert decoded.used == "utf-8" and TEXT in decoded.text


def test_case24_xml_declaration_gb2312_against_utf8_header_parsed_from_bytes() -> None:
    xml = ('<?xml version="1.0" encoding="gb2312"?><datastore><totalrecord>1</totalrecord><recordset>'
           '<record><![CDATA[<li><a href="/art/2024/1/1/art_1_9.html">关于印发通知的公告</a>'
           "<span>2024-01-01</span></li>]]>"
           "</record></recordset></datastore>").encode("gb2312")
    records, total = parse_dataproxy(xml, "http://127.0.0.1/col/col1/index.html")
    assert total == 1
    assert [(r.url, r.title) for r in records] == [("http://127.0.0.1/art/2024/1/1/art_1_9.html", "关于印发通知的公告")]


def test_case25_non_ascii_url_percent_encoded_and_jsonl_url_equals_warc_uri(enc: Enc) -> None:
    r = row(enc, "chinese_url")
    assert r["url"].endswith("?lm=%E9%80%9A%E7%9F%A5%E5%85%AC%E5%91%8A&p=1%202")
    assert r["url"].isascii()
    stored_body(enc, r["url"])  # the JSONL url is byte-identical to a WARC-Target-URI
    requested = enc.fs.requests("/" + enc.urls["chinese_url"].split("/", 3)[3].split("?")[0])
    assert requested[0].target.endswith("?lm=%E9%80%9A%E7%9F%A5%E5%85%AC%E5%91%8A&p=1%202")


def test_case25_idn_host_is_punycode_in_request_and_warc_uri() -> None:
    url = scrapy.Request("http://测试.政务/列表.html?lm=通知").url
    assert url == "http://xn--0zwm56d.xn--zfr164b/%E5%88%97%E8%A1%A8.html?lm=%E9%80%9A%E7%9F%A5"
    assert ascii_uri(url) == url


def test_case25_query_in_a_gbk_page_is_encoded_in_gbk() -> None:
    from scrapy.http import HtmlResponse

    from spiders.hanweb import release_request
    from spiders.hanweb_lists import parse_column_page

    body = '<html><head><meta charset="gbk"></head><body><a href="/art/2024/1/1/art_1_5.html?lm=通知">x</a>'
    response = HtmlResponse("http://127.0.0.1/col/col1/index.html", body=body.encode("gbk"))
    listing = parse_column_page(response.text, response.url)
    request = release_request(listing.records[0], "1", None, response.encoding)
    assert request.url.endswith("?lm=%CD%A8%D6%AA")
    utf8 = HtmlResponse("http://127.0.0.1/col/col1/index.html", body=body.replace("gbk", "utf-8").encode())
    request = release_request(parse_column_page(utf8.text, utf8.url).records[0], "1", None, utf8.encoding)
    assert request.url.endswith("?lm=%E9%80%9A%E7%9F%A5")


def test_case26_invalid_numeric_references_become_replacement_characters(enc: Enc) -> None:
    r = row(enc, "bad_ncr")
    text = r["body_text"]
    assert text.startswith("坏引用") and text.endswith("结束")
    assert "\x00" not in text and not any("\ud800" <= ch <= "\udfff" for ch in text)
    assert "\ufffd" in text
