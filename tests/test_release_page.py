"""Raw field extraction from release pages (hand-written Hanweb-style fixtures in tests/data/pages/)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from pipelines.boilerplate import BoilerplatePipeline
from pipelines.dates import ReleaseDatePipeline
from pipelines.hits import HitsPipeline
from spiders.release_page import RAW_KEYS, parse_release_page

PAGES = Path(__file__).parent / "data" / "pages"
ART_URL = "http://www.example.gov.cn/art/2016/2/5/art_6866_45304.html"
SEED_URL = "http://www.hhtz.gov.cn/art/2016/8/15/art_6001_45304.html"
SEED_TITLE = "CPPCC Chairman Meeting of Binjiang District to Inspect the Deep Development Work of Maker Spaces"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def extract(html: str, url: str = ART_URL) -> dict[str, Any]:
    """parse_release_page followed by the three transform pipelines, as in a crawl."""
    item: dict[str, Any] = parse_release_page(html, url)
    for pipeline in (BoilerplatePipeline(), ReleaseDatePipeline(), HitsPipeline()):
        item = pipeline.process_item(item)
    return item


def test_raw_keys_exactly() -> None:
    raw = parse_release_page(page("zh_upper_markers.html"), ART_URL)
    assert tuple(raw) == RAW_KEYS
    assert set(RAW_KEYS) == {
        "title", "release_raw", "release_source", "pubdate_raw", "hits_raw", "hits_scripted", "source", "index_no",
        "doc_no", "column_name", "body_html", "attachments_found", "language",
    }  # fmt: skip


def test_seed_english_page() -> None:
    item = extract(page("seed_en_binjiang.html"), SEED_URL)
    assert item["title"] == SEED_TITLE
    assert item["release_raw"] == "2016-08-15 11:16:50"
    assert item["release_source"] == "labelled_text"
    assert item["release_date"] == "2016-08-15"
    assert item["release_datetime"] == "2016-08-15T11:16:50+08:00"
    assert item["hits_scripted"] is True
    assert item["hits_raw"] == ""
    assert item["hits"] is None
    assert item["language"] == "en"
    text = item["body_text"]
    assert text.startswith("On 21 Jul., CPPCC Chairman Meeting")
    assert text.endswith("retaining talents and cultivating culture.")
    assert text.count("\n\n") == 2
    for junk in ("Produced By", "ReleaseDate", "ArticleHits", "大汉", "Print"):
        assert junk not in text
    assert "ContentStart" not in item["body_html"]
    assert item["attachments_found"] == []


def test_uppercase_unquoted_markers() -> None:
    item = extract(page("zh_upper_markers.html"))
    assert item["title"] == "区政府召开第45次常务会议"
    # the visible line (with its time) wins over the PubDate meta (date only)
    assert (item["release_raw"], item["release_source"]) == ("2018-03-02 09:30", "labelled_text")
    assert item["release_datetime"] == "2018-03-02T09:30:00+08:00"
    assert item["hits_raw"] == "1,234"
    assert item["hits"] == 1234
    assert item["source"] == "区政府办公室"
    assert item["language"] == "zh"
    assert item["body_text"] == (
        "3月2日，区长主持召开区政府第45次常务会议，研究部署近期重点工作。\n\n"
        "会议听取了2018年重点项目推进情况汇报。会议强调，要坚持问题导向，压实工作责任。\n\n"
        "附件：2018年重点项目清单.pdf"
    )
    assert item["attachments_found"] == [
        {
            "url": "http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename=1803021530123.pdf",
            "name": "2018年重点项目清单.pdf",
        }
    ]


def test_missing_end_marker_and_boilerplate_inside_container() -> None:
    item = extract(page("zh_missing_end_marker.html"))
    assert item["title"] == "关于做好2016年防汛防台工作的通知"
    assert item["release_raw"] == "2016年8月15日"
    assert (item["release_date"], item["release_datetime"]) == ("2016-08-15", None)
    assert item["source"] == "区防汛办"
    assert (item["hits_raw"], item["hits_scripted"], item["hits"]) == ("", False, None)  # empty 浏览次数
    assert item["body_text"] == (
        "各街道、区级有关部门：\n\n为切实做好今年防汛防台工作，现将有关事项通知如下。\n\n"
        "一、加强组织领导\n\n二、做好隐患排查\n\n责任单位 联系人\n\n区水利局 张三\n\n滨江区防汛防台指挥部办公室"
    )
    for junk in ("分享到", "打印本页", "上一篇", "下一篇", "扫一扫", "责任编辑", "Produced By", "首页"):
        assert junk not in item["body_text"]
        assert junk not in item["body_html"]


def test_trs_editor_container_and_date_before_source() -> None:
    url = "http://sthjj.example.gov.cn/xxgk/tzgg/202204/t20220417_123456.shtml"
    item = extract(page("zh_trs_editor.html"), url)
    assert item["title"] == "关于印发《2022年生态环境保护工作要点》的通知"
    assert (item["release_raw"], item["release_source"], item["release_date"]) == (
        "2022-04-17", "bare_text", "2022-04-17",
    )  # fmt: skip  # <span>2022-04-17</span><span>来源：…</span>: no label before the date
    assert item["source"] == "生态环境部"
    assert item["hits_raw"] is None and item["hits"] is None  # no hit label at all
    assert item["body_text"].startswith("各区县生态环境分局：\n\n现将《2022年")
    assert "打印" not in item["body_text"] and "字号" not in item["body_text"]
    assert item["attachments_found"] == [
        {
            "url": "http://sthjj.example.gov.cn/xxgk/tzgg/202204/P020220417512345678901.docx",
            "name": "2022年生态环境保护工作要点.docx",
        }
    ]


def test_gkml_table_index_no_doc_no_and_document_write_count() -> None:
    item = extract(page("zh_gkml_table.html"))
    assert item["index_no"] == "11230200MB1734513R/2019-00123"
    assert item["doc_no"] == "齐政办发〔2019〕29号"
    # 发文日期 outranks 上载日期; 信息来源 outranks 发布机构
    assert item["release_raw"] == "2019-11-29"
    assert item["source"] == "市人民政府办公室"
    assert item["hits_scripted"] is True and item["hits"] is None
    # last segment of a three-part <title>
    assert item["title"] == "齐齐哈尔市人民政府办公室关于印发齐齐哈尔市冬季供暖保障工作方案的通知"
    assert item["body_text"].endswith("齐齐哈尔市人民政府办公室\n\n2019年11月29日")


def test_migrated_page_visible_line_beats_pubdate_and_createdate() -> None:
    item = extract(page("zh_migrated.html"))
    assert (item["release_raw"], item["release_source"]) == ("2015-07-13 10:44:17", "labelled_text")
    assert item["release_datetime"] == "2015-07-13T10:44:17+08:00"
    assert item["source"] == "区农业农村局"  # 文章来源 held a date; the ContentSource meta (any case) is used
    assert (item["hits_raw"], item["hits"]) == ("", None)  # "次浏览" with no number
    assert item["title"] == "西湖区召开夏季农业生产工作推进会"
    assert item["body_text"].startswith("7月13日，西湖区") and "次浏览" not in item["body_text"]


def test_count_filled_by_artcount_script() -> None:
    item = extract(page("zh_count_script.html"))
    assert item["title"] == "上城区开展安全生产大检查"
    assert item["hits_scripted"] is True and item["hits"] is None
    assert item["release_datetime"] == "2021-06-01T08:05:00+08:00"


def test_ucap_pubdate_meta_and_printed_zero() -> None:
    item = extract(page("zh_ucap.html"))
    assert item["title"] == "市政府召开全市春季农业生产电视电话会议"
    assert (item["release_raw"], item["release_source"]) == ("2022-04-17 14:46", "meta_pubdate")
    assert item["release_datetime"] == "2022-04-17T14:46:00+08:00"
    assert (item["hits_raw"], item["hits"]) == ("0", 0)  # a real zero printed in the HTML
    assert item["body_text"] == "4月17日下午，市政府召开全市春季农业生产电视电话会议。"


def test_class_fallback_container_and_chinese_datetime() -> None:
    item = extract(page("zh_plain_fallback.html"))
    assert item["title"] == "拱墅区举行2021年重点项目集中开工仪式"
    assert item["release_raw"] == "2021年9月15日 10:00"
    assert item["release_datetime"] == "2021-09-15T10:00:00+08:00"
    assert item["hits"] == 0
    assert item["body_text"].startswith("9月15日上午，拱墅区举行")
    # the footer's guide PDF is not an attachment of the release
    assert [a["url"] for a in item["attachments_found"]] == [
        "http://www.example.gov.cn/attach/0/20210915_list.xlsx"
    ]


def test_largest_text_block_last_resort() -> None:
    html = page("zh_plain_fallback.html").replace('class="detail"', 'class="x"').replace('class="text"', "")
    item = extract(html)
    assert item["body_text"].startswith("9月15日上午，拱墅区举行")
    assert "区领导调研企业复工复产" not in item["body_text"]


def test_url_path_is_the_last_date_fallback() -> None:
    html = "<html><head><title>A</title></head><body><div id=zoom><p>正文内容一段。</p></div></body></html>"
    item = extract(html, "http://www.example.gov.cn/art/2018/3/2/art_6864_73843.html")
    assert (item["release_raw"], item["release_source"]) == ("2018/3/2", "url_path")
    assert (item["release_date"], item["release_datetime"]) == ("2018-03-02", None)


def test_maketime_and_createdate_are_never_release_dates() -> None:
    html = (
        "<html><head><meta name='Maketime' content='2018-03-20 17:44:35'>"
        "<meta name='createDate' content='2026-01-22 19:08:41'><title>A</title></head>"
        "<body><div id=zoom><p>正文。</p></div></body></html>"
    )
    raw = parse_release_page(html, "http://www.example.gov.cn/col/col1/index.html")
    assert (raw["release_raw"], raw["release_source"]) == (None, None)


XML_DECL_PAGE = "<?xml version='1.0' encoding='gb2312'?><html><body><p>x</p></body></html>"


@pytest.mark.parametrize("html", ["", "   ", XML_DECL_PAGE])
def test_degenerate_input_does_not_crash(html: str) -> None:
    raw = parse_release_page(html, ART_URL)
    assert tuple(raw) == RAW_KEYS
    assert raw["release_source"] == "url_path"


def test_speed_under_budget() -> None:
    html = page("zh_upper_markers.html")
    links = "<a href='/col/col1/index.html'>链接</a>" * 600
    html = html.replace("</TABLE>", f"</TABLE><div class=links>{links}</div>")
    assert len(html.encode()) > 25_000
    parse_release_page(html, ART_URL)
    start = time.perf_counter()
    for _ in range(20):
        parse_release_page(html, ART_URL)
    per_page_ms = (time.perf_counter() - start) / 20 * 1000
    assert per_page_ms < 15  # target is < 3 ms; generous bound for slow CI machines


def _shell(inner: str, title: str = "某某县人民政府") -> str:
    return f"<html><head><meta charset='utf-8'><title>{title}</title></head><body>{inner}</body></html>"


def test_compound_date_label_inside_body_is_not_the_release_date() -> None:
    # no metadata line at all; the body mentions 招标公告发布日期 (another event's date): fall back to the URL path
    html = _shell(
        "<div id='zoom'><p>一、项目名称：道路养护服务</p><p>二、招标公告发布日期：2020年1月2日</p>"
        "<p>三、中标人：某某公司</p><p>四、详情请<a href='/col/col9/index.html'>点击阅读</a></p></div>"
    )
    item = extract(html)
    assert (item["release_raw"], item["release_source"]) == ("2016/2/5", "url_path")
    assert item["hits_raw"] is None  # 点击阅读 is a link text, not a count label


def test_info_line_div_is_not_taken_as_the_body() -> None:
    # a body of br-separated lines (no <p>) and a longer info line above it
    html = _shell(
        "<div class='wrap'><div class='bt'>关于做好汛期值班的通知</div>"
        "<div class='xx'>发布时间：2019年7月1日 08:00 信息来源：县应急管理局 点击数：<script>show()</script>"
        "<br>索引号：11330300-2019-000123 文号：某应急〔2019〕5号</div>"
        "<div class='zw'>各乡镇：<br>　　请落实值班制度。<br>　　特此通知。<br><br>某某县应急管理局</div></div>"
    )
    item = extract(html)
    assert item["body_text"] == "各乡镇：\n\n请落实值班制度。\n\n特此通知。\n\n某某县应急管理局"
    assert item["index_no"] == "11330300-2019-000123"
    assert item["doc_no"] == "某应急〔2019〕5号"
    assert item["release_datetime"] == "2019-07-01T08:00:00+08:00"


def test_site_counter_in_footer_is_not_the_hit_count() -> None:
    html = _shell(
        "<div class='art'><h1>全区召开安全生产会议</h1><div class='info'>日期：2022-03-04 来源：区应急局</div>"
        "<div id='zoom'><p>会议部署了近期安全生产工作。</p></div></div>"
        "<div class='footer'>主办：某某区人民政府 访问量：987654 <span>本页浏览次数：5</span></div>"
    )
    item = extract(html)
    assert (item["hits_raw"], item["hits"]) == (None, None)
    assert item["source"] == "区应急局"


def test_dates_and_sources_in_related_lists_are_ignored() -> None:
    html = _shell(
        "<div class='art'><h1>全区召开安全生产会议</h1>"
        "<div id='zoom'><p>会议部署了近期安全生产工作。</p></div>"
        "<div class='xgwz'><h3>相关文章</h3><ul>"
        "<li><a href='/art/2015/1/1/art_1_7.html'>去年的安全生产会议报道</a> 发布时间：2015-01-01 来源：区政府办</li>"
        "</ul></div></div>"
    )
    item = extract(html)
    assert (item["release_raw"], item["release_source"]) == ("2016/2/5", "url_path")
    assert item["source"] is None
