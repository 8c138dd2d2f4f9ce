"""Release pages, in the template family a release's :class:`model.ArticleStyle` draws.

The info line (date, source, count), the title, the body container and the attachment block each come in the
forms real Hanweb portals use; :mod:`dates` fixes what the date forms mean, so the truth stays exact.
"""

from __future__ import annotations

from html import escape

from . import dates
from .model import ArticleStyle, Release, Site
from .render_common import HIDDEN_LINK, footer, head, nav_bar, tail, visit_iframe

FONT_BAR = ('【字体：<a href="javascript:doZoom(16)">大</a> <a href="javascript:doZoom(14)">中</a> '
            '<a href="javascript:doZoom(12)">小</a>】')
PRINT_BAR = ('<div class="print">【<a href="javascript:window.print()">打印本页</a>】'
             '【<a href="javascript:window.close()">关闭窗口</a>】</div>')
SHARE = ('<div class="share">分享到：<a href="javascript:;">微信</a> <a href="javascript:;">微博</a> '
         "扫一扫在手机打开当前页</div>")


def _date_text(release: Release) -> str:
    return dates.visible_text(release.moment, release.style.date_form, release.style.visible)


def _labelled(style: ArticleStyle, label: str, value: str) -> str:
    """``label`` and ``value`` as the template joins them (colon form, one element or two)."""
    if style.label_split:
        return f'<span class="lab">{label}{style.colon}</span><span class="val">{value}</span>'
    return f"{label}{style.colon}{value}"


def _hits_value(release: Release) -> str:
    """The count's markup after its label; only "number" prints a number a reader may take."""
    style, c, a = release.style, release.column_id, release.article_id
    if style.hits == "number":
        return f'<span id="hits">{release.hits}</span>{style.hits_suffix}'
    if style.hits == "empty-script":
        return (f'<span id="hits_{a}"></span><script>$.get("/module/visitcount/articlehits.jsp?colid={c}'
                f'&artid={a}",function(d){{$("#hits_{a}").html(d);}});</script>')
    if style.hits == "script-src":
        return f'<script language="javascript" src="/module/visitcount/articlehits.jsp?colid={c}&artid={a}"></script>'
    if style.hits == "artcount":
        return (f'<span id="artcount"></span><script src="/vc/vc/interface/artcount/artcount.jsp?'
                f'i_columnid={c}&i_articleid={a}"></script>')
    return ""


def _hits_segment(release: Release) -> str:
    """The labelled count (or the 次浏览 form, the empty count before its label)."""
    style = release.style
    if style.hits == "suffix-empty":
        return '<span id="count"></span>次浏览'
    if style.hits == "none":
        return ""
    return _labelled(style, style.hits_label, _hits_value(release))


def _source_segment(release: Release) -> str:
    style = release.style
    if release.source is None:
        return ""
    value = escape(release.source)
    if style.source_link:
        value = f'<a href="http://www.zj.gov.cn/" target="_blank">{value}</a>'
    if style.source_markup == "comment":
        value = f"<!--<$[信息来源]>begin-->{value}<!--<$[信息来源]>end-->"
    return _labelled(style, style.source_label, value)


def _info_line(release: Release) -> str:
    """The metadata line under the title."""
    style = release.style
    hits = _hits_segment(release)
    source = _source_segment(release)
    date = _labelled(style, style.date_label, _date_text(release)) if style.visible != "none" else ""
    if style.info == "bare-span":
        parts = [f'<span class="time">{_date_text(release)}</span>']
        if source:
            parts.append(f"<span>{source}</span>")
        if hits:
            parts.append(f"<span>{hits}</span>")
        return '<div class="art_info">' + "".join(parts) + "</div>"
    if style.info == "haikou":
        src = f"{style.source_label}: {escape(release.source)}" if release.source else ""
        return f'<p class="time">{_date_text(release)} {src} {FONT_BAR}</p>'
    if style.info == "english":
        return f'<div class="info">ReleaseDate: {_date_text(release)} ArticleHits: {_hits_value(release)}</div>'
    if style.info == "source-date":
        segments = [_labelled(style, "文章来源", _date_text(release)), hits]
    elif style.hits_first:
        segments = [source, hits, date]
    else:
        segments = [date, source, hits]
    if style.font_bar:
        segments.append(FONT_BAR)
    return '<div class="info">' + "&nbsp;&nbsp;&nbsp;".join(s for s in segments if s) + "</div>"


def _gk_table(release: Release) -> str:
    """The 信息公开 header table: 索引号, 发布机构, 发布日期, 文号 (and an earlier 成文日期 on some)."""
    style = release.style

    def label(text: str) -> str:
        return (" ".join(text) if style.spaced_labels else text) + style.colon

    rows = [f"<tr><td class='t'>{label('索引号')}</td><td>{escape(release.index_no or '')}</td>"
            f"<td class='t'>{label('主题分类')}</td><td>综合政务/其他</td></tr>",
            f"<tr><td class='t'>{label('发布机构')}</td><td>{escape(release.source or '')}</td>"
            f"<td class='t'>{label('发布日期')}</td><td>{_date_text(release)}</td></tr>"]
    signed = ""
    if style.signed_date and release.signed is not None:
        signed = (f"<td class='t'>{label('成文日期')}</td>"
                  f"<td>{dates.visible_text(release.signed, style.date_form, 'date')}</td>")
    rows.append(f"<tr><td class='t'>{label('文号')}</td><td>{escape(release.doc_no or '')}</td>{signed}</tr>")
    rows.append(f"<tr><td class='t'>名　　称：</td><td colspan='3'>{escape(release.title)}</td></tr>")
    return "<table class='xxgk_table' width='100%' border='1'>" + "".join(rows) + "</table>"


def _title_block(release: Release) -> str:
    style = release.style
    if style.title_block == "h1":
        return f'<h1 class="arttitle">{release.title_html}</h1>'
    if style.title_block == "td":
        return f'<table width="100%"><tr><td class="title" align="center">{release.title_html}</td></tr></table>'
    return f'<div class="title">{release.title_html}</div>'


def _paragraphs(release: Release, site: Site, bases: dict[str, str]) -> list[str]:
    """Body paragraphs; an image and the inline attachments go in the middle, never first or last."""
    out = []
    middle = (len(release.paragraphs) - 1) // 2
    for index, text in enumerate(release.paragraphs):
        indent = "" if release.language == "en" else "　　"
        if index % 2:
            out.append(f'<p style="text-indent:2em;">{escape(text)}</p>')
        else:
            out.append(f"<P>{indent}{escape(text)}</P>")
        if index == middle and len(release.paragraphs) > 1:
            picture = "http://[bad/img/1.jpg" if release.style.bad_image else f"/picture/0/{release.article_id}1.jpg"
            out.append(f'<p style="text-align:center"><img src="{picture}" border=0></p>')
            inline = [a for a in release.attachments if a.inline]
            for attachment in inline:
                href = attachment.url(bases) if attachment.host == "asset" else attachment.path
                out.append(f'<p>详见附件：<a href="{escape(href)}">{escape(attachment.name)}</a></p>')
    return out


def _body(release: Release, site: Site, bases: dict[str, str]) -> list[str]:
    style = release.style
    paragraphs = _paragraphs(release, site, bases)
    hidden = [HIDDEN_LINK] if style.hidden_link_in_body else []
    location = ([f'<div id="hiddenLocation" style="display:none">当前位置：首页 &gt; {escape(site.name)}</div>']
                if style.hidden_location else [])
    if style.layout == "markers-zoom":
        return ['<div id="zoom">', *location, "<!--<$[信息内容]>begin--><!--ZJEG_RSS.content.begin-->",
                "<META name=ContentStart>", *paragraphs, "<META name=ContentEnd>",
                "<!--ZJEG_RSS.content.end--><!--<$[信息内容]>end-->", *hidden, "</div>"]
    if style.layout == "markers-div":
        return ['<div class="main-txt">', *location, '<!--ZJEG_RSS.content.begin--><meta name="ContentStart">',
                *paragraphs, '<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->', *hidden, "</div>"]
    return ['<div id="zoom" class="zoom">', *location, *paragraphs, *hidden, "</div>"]


def _attachment_block(release: Release, bases: dict[str, str]) -> list[str]:
    links = []
    for attachment in release.attachments:
        if attachment.inline:
            continue
        href = attachment.url(bases) if attachment.host == "asset" else attachment.path
        links.append(f'<a href="{escape(href)}" target="_blank">{escape(attachment.name)}</a>')
    links += [f'<a href="{escape(href)}" target="_blank">附件{i + 1}.pdf</a>'
              for i, href in enumerate(release.bad_attachment_hrefs)]
    if not links:
        return []
    return ['<div class="fujian">相关附件：<br>' + "<br>".join(links) + "</div>"]


def _metas(release: Release, site: Site, bases: dict[str, str]) -> list[str]:
    style = release.style
    metas = [f'<meta name="ColumnName" content="{escape(site.columns[release.column_id].name)}">']
    if style.article_title_meta:
        metas.append(f'<meta name="ArticleTitle" content="{escape(release.title)}">')
    precision = style.visible if style.pubdate == "same" and style.visible != "none" else style.meta_precision
    pubdate = dates.pubdate_text(release.moment, style.pubdate, precision, site.build_time)
    if pubdate is not None:
        name = "pubdate" if release.article_id % 3 == 0 else "PubDate"
        metas.append(f'<meta name="{name}" content="{pubdate}">')
    if release.source and style.info != "gk-table":
        metas.append(f'<meta name="ContentSource" content="{escape(release.source)}">')
    metas.append(f'<meta name="Url" content="{bases["portal"]}{release.path}">')
    metas.append(f"<meta name='createDate' content='{site.build_time:%Y-%m-%d %H:%M:%S}'>")
    return metas


def _prev_next(release: Release, site: Site) -> list[str]:
    same = [r for r in site.releases if r.column_id == release.column_id]
    index = same.index(release)
    links = []
    if index > 0:
        links.append(f'上一篇：<a href="{same[index - 1].path}">{escape(same[index - 1].title)}</a>')
    if index + 1 < len(same):
        links.append(f'下一篇：<a href="{same[index + 1].path}">{escape(same[index + 1].title)}</a>')
    return ['<div class="prevnext">' + "<br>".join(links) + "</div>"] if links else []


def _title_tag(release: Release, site: Site) -> str:
    style = release.style
    title = escape(release.title)
    if style.title_tag == "three-part":
        return f"{escape(site.name)} {escape(site.columns[release.column_id].name)} {title}"
    if style.title_tag == "title-site":
        return f"{title}_{escape(site.name)}"
    return title


def render(release: Release, site: Site, bases: dict[str, str]) -> bytes:
    """The release page's bytes in its charset (template lines CRLF, injected content LF when ``crlf``)."""
    style = release.style
    column = site.columns[release.column_id]
    lines = head(site, _title_tag(release, site), style.charset, _metas(release, site, bases))
    lines += ["<body>", nav_bar(site),
              f'<div class="position">当前位置：<a href="/index.html">首页</a> &gt; '
              f'<a href="{column.path}">{escape(column.name)}</a></div>', '<div class="article">']
    lines.append(_title_block(release))
    lines.append(_gk_table(release) if style.info == "gk-table" else _info_line(release))
    tail_lines = [PRINT_BAR, *(_prev_next(release, site) if style.prev_next else []), SHARE, "</div>",
                  *footer(site), visit_iframe(3, site, release.column_id, release.article_id), *tail()]
    sep = "\r\n" if style.crlf else "\n"
    blocks = [sep.join(lines), "\n".join(_body(release, site, bases)), *_attachment_block(release, bases),
              sep.join(tail_lines)]
    page = sep.join(blocks) + sep
    return page.encode(style.charset)
