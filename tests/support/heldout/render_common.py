"""Markup every page of a Hanweb portal shares: head metas, the nav bar, the footer, the counters, the hidden link."""

from __future__ import annotations

from html import escape

from .model import Site

HIDDEN_LINK = "<a href='http://www.hanweb.com' style='display:none'>Produced By 大汉网络 大汉版通发布系统</a>"
COUNTER_PATHS = ("visit.jsp", "articlehits.jsp", "artcount.jsp")


def charset_label(charset: str) -> str:
    """The label a page declares for its charset (GBK sites say gb2312, as old templates do)."""
    return "gb2312" if charset == "gbk" else "utf-8"


def head(site: Site, title: str, charset: str, extra_metas: list[str]) -> list[str]:
    """The <head> lines: charset, title, Hanweb fingerprints, site metas, then ``extra_metas``."""
    return [
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
        '<html xmlns="http://www.w3.org/1999/xhtml">',
        "<head>",
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset_label(charset)}" />',
        f"<title>{title}</title>",
        "<meta name='Generator' content='大汉版通'><meta name='Author' content='大汉网络'>",
        f"<meta name='Maketime' content='{site.build_time:%Y-%m-%d %H:%M:%S}'>",
        f'<meta name="SiteName" content="{escape(site.name)}">',
        f'<meta name="SiteIDCode" content="33010{site.webid:05d}">',
        f"<meta name='WebId' content='{site.webid}'>",
        *extra_metas,
        '<script language="javascript" src="/module/jslib/jquery/jquery.js"></script>',
        f'<link href="/images/{site.webid}/css.css" rel="stylesheet" type="text/css">',
        '<link href="/script/page.css" type=text/css rel=stylesheet>',
        "</head>",
    ]


def nav_bar(site: Site, home: bool = False) -> str:
    """The site's nav bar: home, the top-level columns, the malformed links the seed put there."""
    items = ['<li><a href="/index.html">首页</a></li>']
    bad = list(site.bad_nav_hrefs) if home or site.bad_nav_everywhere else []
    for position, column_id in enumerate(site.nav):
        column = site.columns[column_id]
        if bad and position == 1:
            items.append(f'<li><a href="{escape(bad.pop(0))}" target="_blank">网上办事</a></li>')
        href = f"/col/col{column.old_id}/index.html" if column.link == "redirect" and column.old_id else column.path
        items.append(f'<li><a href="{href}">{escape(column.name)}</a></li>')
    items += [f'<li><a href="{escape(href)}">政民互动</a></li>' for href in bad]
    return '<div class="nav"><ul>' + "".join(items) + "</ul></div>"


def footer(site: Site) -> list[str]:
    """Footer boilerplate every template prints."""
    return [
        '<div class="footer">',
        f"<p>主办单位：{escape(site.name)}办公室 &nbsp; 网站标识码：33010{site.webid:05d}</p>",
        "<p>浙ICP备05012345号-1 &nbsp; 浙公网安备 33010802001234号 &nbsp; "
        "<a href='/col/col1/index.html?sitemap=1'>网站地图</a></p>",
        "</div>",
    ]


def visit_iframe(kind: int, site: Site, column_id: int, article_id: int | None = None) -> str:
    """The hidden visit counter (type 1 site, 2 column, 3 article); fetching it increments the count."""
    query = f"type={kind}&i_webid={site.webid}&i_columnid={column_id}"
    if article_id is not None:
        query += f"&i_articleid={article_id}"
    return ("<!-- visitcount Begin --><iframe src='./module/visitcount/visit.jsp?" + query + "' name=\"vishidden\" "
            'id="vishidden" frameborder="0" style="width:0; height:0; display:none"></iframe><!-- visitcount End -->')


def tail() -> list[str]:
    """The last lines before </html>: the hidden Hanweb link and pagecontrol.js."""
    return [HIDDEN_LINK, "<script language=\"javascript\" src='/script/pagecontrol.js'></script>", "</body>", "</html>"]
