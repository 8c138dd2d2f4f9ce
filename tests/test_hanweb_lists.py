"""Column-page and dataproxy parsing against Hanweb markup as real portals serve it."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from crawler.fetch.counter_guard import is_counter_url
from spiders.hanweb_lists import (
    article_ids,
    parse_column_page,
    parse_dataproxy,
)
from spiders.list_walk import WidgetWalk

PAGE_URL = "http://www.example.gov.cn/col/col1389975/index.html"


def _records(n: int, start: int = 1) -> str:
    return "".join(
        f'<record><![CDATA[<li><a href="/art/2024/1/{i % 28 + 1}/art_1389975_{1000 + i}.html" '
        f'title="关于第{i}号通知的公告全文">关于第{i}号通知…</a><span>2024-01-{i % 28 + 1:02d}</span></li>]]></record>'
        for i in range(start, start + n)
    )


def _column_page(nextgroup: str, total: int, embedded: int, extra_script: str = "") -> str:
    return f"""<html><head><title>示例区人民政府 - 通知公告</title>
<meta name="ColumnName" content="通知公告"></head><body>
<div id="4455560"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup>
<recordset>{_records(embedded)}</recordset></datastore></script></div>
<script language="javascript" src="/module/web/jpage/jpage.js"></script>
<script>$(document).ready(function(){{ $('#4455560').jpage({{ proxyUrl:'/module/web/jpage/dataproxy.jsp',
 totalRecord:{total}, perPage:15, groupSize:3, {extra_script}
 ajaxParam:{{col:1,appid:1,webid:1934,path:'/',columnid:1389975,sourceContentType:1,unitid:4455560,
 webname:'示例区人民政府',permissiontype:0}} }}); }});</script>
<a href="/col/col1389976/index.html">政策文件</a>
<iframe src="/module/visitcount/visit.jsp?type=2&i_webid=1934&i_columnid=1389975" style="display:none"></iframe>
</body></html>"""


def test_embedded_records_resolve_against_the_page_and_keep_full_titles() -> None:
    html = _column_page("/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15", 15, 15)
    listing = parse_column_page(html, PAGE_URL)
    assert len(listing.records) == 15
    first = listing.records[0]
    assert first.url == "http://www.example.gov.cn/art/2024/1/2/art_1389975_1001.html"
    assert first.title == "关于第1号通知的公告全文"  # from title=, not the shortened text
    assert first.date_text == "2024-01-02"
    assert "2024" not in first.title
    assert listing.column_id == "1389975"
    assert listing.column_name == "通知公告"
    assert listing.column_links == ["http://www.example.gov.cn/col/col1389976/index.html"]
    [widget] = listing.widgets
    assert widget.unit_id == "4455560" and widget.embedded == 15 and widget.total == 15 and widget.jpage


def test_post_style_asks_record_ranges_with_the_cms_form_body_one_group_at_a_time() -> None:
    html = _column_page("/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15", 100, 15)
    [widget] = parse_column_page(html, PAGE_URL).widgets
    walk = WidgetWalk.of("1389975", widget, PAGE_URL, 1, 2000)
    first = walk.first()
    assert first is not None and first.body is not None
    assert dict(parse_qsl(urlsplit(first.url).query)) == {"startrecord": "16", "endrecord": "60", "perpage": "15"}
    assert urlsplit(first.url).path == "/module/web/jpage/dataproxy.jsp"
    body = dict(parse_qsl(first.body))
    assert body["columnid"] == "1389975" and body["unitid"] == "4455560" and body["webid"] == "1934"
    assert body["path"] == "/" and body["webname"] == "示例区人民政府"
    assert first.body.startswith("col=1&appid=1&webid=1934")
    following = walk.answered(True, [f"http://www.example.gov.cn/art/2024/1/1/art_1389975_{i}.html" for i in range(45)])
    assert following is not None
    assert dict(parse_qsl(urlsplit(following.url).query))["startrecord"] == "61"


def test_get_style_follows_the_nextgroup_link_on_the_path_the_page_names() -> None:
    nextgroup = ("/module/jpage/dataproxy.jsp?page=2&appid=1&webid=1934&path=/&columnid=1389975"
                 "&unitid=4455560&permissiontype=0")
    html = _column_page(nextgroup, 50, 15).replace("/module/web/jpage/dataproxy.jsp", "/module/jpage/dataproxy.jsp")
    html = html.replace("$('#4455560').jpage(", "void(")  # no jpage call: the GET chain is what a browser has
    [widget] = parse_column_page(html, PAGE_URL).widgets
    assert not widget.jpage and widget.total == 50
    walk = WidgetWalk.of("1389975", widget, PAGE_URL, 1, 2000)
    first = walk.first()
    assert first is not None and first.body is None
    assert urlsplit(first.url).path == "/module/jpage/dataproxy.jsp"
    assert dict(parse_qsl(urlsplit(first.url).query))["page"] == "2"
    following = walk.answered(True, ["http://www.example.gov.cn/art/2024/1/1/art_1389975_99.html"])
    assert following is not None and dict(parse_qsl(urlsplit(following.url).query))["page"] == "3"
    assert dict(parse_qsl(urlsplit(following.url).query))["unitid"] == "4455560"


def test_dataproxy_answer_links_resolve_against_the_column_page() -> None:
    xml = ('<?xml version="1.0" encoding="utf-8"?><datastore><totalrecord>100</totalrecord><totalpage>7</totalpage>'
           f"<recordset>{_records(3, 16)}</recordset></datastore>").encode()
    records, total = parse_dataproxy(xml, "http://www.example.gov.cn/col/col1389975/index.html")
    assert total == 100
    assert [r.url.rsplit("_", 1)[1] for r in records] == ["1016.html", "1017.html", "1018.html"]
    assert records[0].url.startswith("http://www.example.gov.cn/art/")


def test_dataproxy_declared_gb2312_is_parsed_from_bytes() -> None:
    xml = ('<?xml version="1.0" encoding="gb2312"?><datastore><totalrecord>1</totalrecord><recordset>'
           '<record><![CDATA[<li><a href="/art/2024/1/1/art_1_1.html">标题</a></li>]]></record>'
           "</recordset></datastore>").encode("gb2312")
    records, total = parse_dataproxy(xml, PAGE_URL)
    assert total == 1 and records[0].title == "标题"


def test_broken_dataproxy_xml_falls_back_to_the_cdata_sections() -> None:
    xml = (b'<datastore><totalrecord>2</totalrecord><recordset>'
           b'<record><![CDATA[<li><a href="/art/2024/1/1/art_1_1.html">A\x01</a></li>]]></record>'
           b'<record><![CDATA[<li><a href="/art/2024/1/2/art_1_2.html">B</a></li>]]></record>'
           b"</recordset>")
    records, total = parse_dataproxy(xml, PAGE_URL)
    assert total == 2 and len(records) == 2


def test_external_entities_are_not_resolved() -> None:
    xml = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
           b"<datastore><totalrecord>1</totalrecord><recordset><record>&x;</record></recordset></datastore>")
    records, _ = parse_dataproxy(xml, PAGE_URL)
    assert records == []


def test_counters_and_article_ids() -> None:
    assert is_counter_url("http://x.gov.cn/module/visitcount/visit.jsp?type=3&i_articleid=1")
    assert is_counter_url("http://x.gov.cn/module/visitcount/articlehits.jsp?artid=1")
    assert is_counter_url("http://x.gov.cn/vc/vc/interface/artcount/artcount.jsp?i_articleid=1")
    assert not is_counter_url("http://x.gov.cn/art/2018/3/2/art_6864_73843.html")
    assert article_ids("http://x.gov.cn/art/2018/3/2/art_6864_73843.html") == ("6864", "73843")
    assert article_ids("http://www.hangzhou.gov.cn/art/2021/1/5/art_1054955_15683810.html") == (
        "1054955", "15683810")
    assert article_ids("http://x.gov.cn/col/col6864/index.html") is None


def test_release_number_beyond_hanweb_urls() -> None:
    from spiders.hanweb_lists import release_number

    assert release_number("http://x.gov.cn/art/2018/3/2/art_6864_73843.html") == "73843"
    assert release_number("https://www.mee.gov.cn/ywdt/hjywnews/202204/t20220417_974321.shtml") == "974321"
    assert release_number("http://x.gov.cn/module/xxgk/view.jsp?infoid=5521&x=1") == "5521"
    assert release_number("http://x.gov.cn/news/content_88213.html") == "88213"
    assert release_number("http://x.gov.cn/news/index.html") is None
