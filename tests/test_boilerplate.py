"""Boilerplate stripping and the body_text convention."""

from __future__ import annotations

from pipelines.boilerplate import BoilerplatePipeline, body_text_from_html, clean_body_html, is_boilerplate_line


def test_body_text_blocks_and_whitespace() -> None:
    html = (
        "<p>第一段\u3000\u3000正文\xa0内容 </p><div>第二段<br>第二行<br/>  </div>"
        "<ul><li>条目一</li><li>条目 二</li></ul>"
        "<table><tr><td>单元 A</td><td>单元B</td></tr><tr><th>C</th><td>D</td></tr></table>"
        "<h2>标题\n换行</h2><p>   </p><span>行内</span><span>相连</span>"
    )
    assert body_text_from_html(html) == (
        "第一段 正文 内容\n\n第二段\n\n第二行\n\n条目一\n\n条目 二\n\n单元 A 单元B\n\nC D\n\n标题 换行\n\n行内相连"
    )


def test_nested_blocks_and_text_around_them() -> None:
    assert body_text_from_html("<div>前<p>中</p>后</div>") == "前\n\n中\n\n后"
    assert body_text_from_html("") == ""


def test_hanweb_link_hidden_location_scripts_and_counters_removed() -> None:
    html = (
        "<p>正文。</p><script>document.write('x')</script><style>p{}</style>"
        "<iframe src='/module/visitcount/visit.jsp?type=3&i_articleid=1'></iframe>"
        "<div id='hiddenLocation'>首页 &gt; 要闻</div><!-- comment -->"
        "<a href='http://www.hanweb.com' style='display:none'>Produced By 大汉网络 大汉版通发布系统</a>"
    )
    cleaned = clean_body_html(html)
    assert body_text_from_html(cleaned) == "正文。"
    for junk in ("script", "style", "iframe", "hanweb", "hiddenLocation", "comment"):
        assert junk not in cleaned


def test_print_close_font_share_prev_next_removed() -> None:
    html = (
        "<p>正文第一段。</p>"
        "<div>【打印本页】【关闭窗口】</div><div>【打印页面】 【关闭页面】 【TOP】</div>"
        "<div><a href='#'>[打印]</a> <a href='#'>[关闭]</a></div>"
        "<div>字体：【<a>大</a> <a>中</a> <a>小</a>】</div><div>字号：[大] [中] [小]</div><p>字号：大中小</p>"
        "<div>分享到：<a>微信</a><a>微博</a></div>"
        "<p>上一篇：<a href='/art/1.html'>关于某事</a></p><p>下一篇：没有了</p>"
        "<div>扫一扫在手机打开当前页</div><p>责任编辑：王五</p><p>网站地图</p>"
        "<p>主办单位：某区人民政府 承办单位：区大数据局</p><p>浙ICP备05001234号</p>"
        "<p>浙公网安备 33010802000123号</p><p>网站标识码：3301080001</p>"
        "<p>正文第二段。</p>"
    )
    assert body_text_from_html(clean_body_html(html)) == "正文第一段。\n\n正文第二段。"


def test_leaked_metadata_lines_removed() -> None:
    html = (
        "<div>ReleaseDate: 2016-08-15 11:16:50 ArticleHits: </div>"
        "<p>发布日期：2016-08-15 来源：区政府办公室 浏览次数：12</p>"
        "<div>正文<br>发布时间：2017-03-14<br>第二行</div>"
    )
    assert body_text_from_html(clean_body_html(html)) == "正文\n\n第二行"


def test_content_that_only_looks_like_boilerplate_is_kept() -> None:
    html = (
        "<p>Next year, the district will build three more maker spaces.</p>"
        "<p>来源：本次活动的资金来源于区财政专项资金，由区科技局负责管理和使用，确保专款专用。</p>"
        "<p>主办单位：区文化和旅游局</p>"
        "<p>文中提到的【打印本页】按钮位于页面底部。</p>"
        "<p>附件：<a href='/module/download/downfile.jsp?filename=a.pdf'>名单.pdf</a></p>"
    )
    text = body_text_from_html(clean_body_html(html))
    assert text.split("\n\n") == [
        "Next year, the district will build three more maker spaces.",
        "来源：本次活动的资金来源于区财政专项资金，由区科技局负责管理和使用，确保专款专用。",
        "主办单位：区文化和旅游局",
        "文中提到的按钮位于页面底部。",
        "附件：名单.pdf",
    ]


def test_is_boilerplate_line_table() -> None:
    assert is_boilerplate_line("【打印本页】【关闭窗口】")
    assert is_boilerplate_line("字体：【大中小】")
    assert is_boilerplate_line("分享到：")
    assert not is_boilerplate_line("区政府召开常务会议")
    assert not is_boilerplate_line("")


def test_pipeline_sets_clean_html_and_text() -> None:
    item = {"body_html": "<p>正文。</p><div>【打印本页】【关闭窗口】</div>", "body_text": None}
    out = BoilerplatePipeline().process_item(item)
    assert out is item
    assert item["body_html"] == "<p>正文。</p>"
    assert item["body_text"] == "正文。"


def test_pipeline_without_body() -> None:
    item = {"body_html": None, "body_text": "stale"}
    BoilerplatePipeline().process_item(item)
    assert item["body_text"] is None
    item = {"body_html": "<div>【打印本页】【关闭窗口】</div>", "body_text": None}
    BoilerplatePipeline().process_item(item)
    assert (item["body_html"], item["body_text"]) == (None, None)  # nothing left: null, never ""


def test_word_table_row_is_one_block_even_with_paragraphs_in_cells() -> None:
    # Word-pasted tables wrap each cell in <div><p>; a data row still renders as one block, cells joined
    html = (
        "<p>名单如下：</p><table><tbody>"
        "<tr><td><div><p>编号</p></div></td><td><p>姓名</p></td><td><p>处理</p><p>结果</p></td></tr>"
        "<tr><td><p>7</p></td><td><p>张三</p></td><td><p>警告<br>一次</p></td></tr>"
        "</tbody></table><p>特此公告。</p>"
    )
    assert body_text_from_html(html) == "名单如下：\n\n编号 姓名 处理 结果\n\n7 张三 警告 一次\n\n特此公告。"


def test_layout_table_cell_keeps_its_paragraphs() -> None:
    long_para = "这是一段很长的正文内容，用于模拟排版表格中的正文。" * 6
    html = (
        "<table><tr><td><img src='/picture/0/1.jpg'></td>"
        f"<td><p>{long_para}</p><p>{long_para}</p><p>第三段。</p></td></tr></table>"
    )
    assert body_text_from_html(html) == f"{long_para}\n\n{long_para}\n\n第三段。"


def test_related_link_blocks_inside_body_removed() -> None:
    html = (
        "<p>正文第一段。</p><p>正文第二段，详见<a href='/art/2021/1/1/art_1_1.html'>附表说明</a>。</p>"
        "<div class='xg'><h4>相关链接</h4><ul><li><a href='/art/2020/1/1/art_1_2.html'>往年同类工作回顾</a>"
        "<span>2020-01-01</span></li><li><a href='/art/2019/1/1/art_1_3.html'>政策问答汇编</a></li></ul></div>"
        "<p>【相关阅读】<a href='/art/2018/1/1/art_1_4.html'>一篇旧的报道标题</a></p>"
        "<p>相关附件：<a href='/module/download/downfile.jsp?filename=a.pdf'>名单.pdf</a></p>"
    )
    text = body_text_from_html(clean_body_html(html))
    assert text == "正文第一段。\n\n正文第二段，详见附表说明。\n\n相关附件：名单.pdf"
