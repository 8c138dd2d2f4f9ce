"""HTML/XML rendering of the simulated portal: home, column pages, dataproxy answers and release pages.

Every function returns `str`; the server encodes it (UTF-8, or GBK for the GBK charset variants). The page
chrome (head scripts, navigation and footer link farms) is built once per language and reused, modelled on a
real Hanweb home page (www.coscoshipping.com, 2018).
"""

from __future__ import annotations

import functools
import html
import random
import urllib.parse
from collections.abc import Iterable

from simulator import page_variants
from simulator.list_variants import MALFORMED_RECORD, SIDE_RECORDS, SIDE_UNIT_OFFSET, ListVariant
from simulator.portal import (
    COLUMNS,
    GROUP_SIZE,
    PER_PAGE,
    SITE_NAME,
    SITE_NAME_EN,
    Column,
    Release,
    SimulatedPortal,
    is_asset_path,
)

HIDDEN_LINK = "<a href='http://www.hanweb.com' style='display:none'>Produced By 大汉网络 大汉版通发布系统</a>"
PAGECONTROL = "<script language=\"javascript\" src='/script/pagecontrol.js'></script>"
ICP = "浙ICP备12345678号-1"
SITE_ID_CODE = "3301080001"
WEBID = 1

MARKERS = {
    "upper": (
        "<!--ZJEG_RSS.content.begin--><META name=ContentStart>",
        "<META name=ContentEnd><!--ZJEG_RSS.content.end-->",
    ),
    "quoted": (
        '<!--ZJEG_RSS.content.begin--><meta name="ContentStart">',
        '<meta name="ContentEnd"><!--ZJEG_RSS.content.end-->',
    ),
    "lower": (
        "<!--ZJEG_RSS.content.begin--><meta name=contentstart>",
        "<meta name=contentend><!--ZJEG_RSS.content.end-->",
    ),
}

_HEAD_ASSETS = """<script language="javascript" src="/module/jslib/jquery/jquery.js"></script>
<link href="/script/page.css" type=text/css rel=stylesheet>
<link href="/images/1/hanweb.css" rel="stylesheet" type="text/css">
<link href="/images/1/css.css" rel="stylesheet" type="text/css">
<script src="/images/1/qh_js.js"></script>
<style>
.float_layer { width: 404px; border: 1px solid #aaaaaa; display:none; background: #fff; }
.float_layer h2 { height: 25px; line-height: 25px; padding-left: 10px; font-size: 14px; color: #333; }
.float_layer .min { width: 21px; height: 20px; position: absolute; top: 2px; right: 25px; }
.float_layer .close { width: 21px; height: 20px; position: absolute; top: 2px; right: 3px; }
.nav_list li { float:left; width:110px; text-align:center; line-height:40px; font-size:16px; }
.nav_list li a { color:#fff; text-decoration:none; }
.linkfarm dl { float:left; width:230px; margin:0 10px; }
.linkfarm dd { line-height:26px; font-size:13px; }
#zoom { font-size:16px; line-height:32px; }
#zoom p { margin:10px 0; }
.bt_link1{font-size:14px;font-family:'Microsoft YaHei', '微软雅黑';color:#333333;}
</style>
<script type="text/javascript">
function doZoom(size){ document.getElementById('zoom').style.fontSize = size + 'px'; }
function miaovAddEvent(oEle, sEventName, fnHandler)
{
	if(oEle.attachEvent){ oEle.attachEvent('on'+sEventName, fnHandler); }
	else { oEle.addEventListener(sEventName, fnHandler, false); }
}
window.onload = function()
{
	var oDiv=document.getElementById('miaov_float_layer');
	var oBtnMin=document.getElementById('btn_min');
	var oBtnClose=document.getElementById('btn_close');
	if(!oDiv) return;
	var oDivContent=oDiv.getElementsByTagName('div')[0];
	var iMaxHeight=0;
	var isIE6=window.navigator.userAgent.match(/MSIE 6/ig) && !window.navigator.userAgent.match(/MSIE 7|8/ig);
	oDiv.style.display='block';
	iMaxHeight=oDivContent.offsetHeight;
	if(isIE6)
	{
		oDiv.style.position='absolute';
		miaovAddEvent(window, 'scroll', repositionFixed);
		miaovAddEvent(window, 'resize', repositionFixed);
	}
	else
	{
		oDiv.style.position='fixed';
		repositionFixed();
		miaovAddEvent(window, 'resize', repositionFixed);
	}
	oBtnMin.timer=null;
	oBtnMin.isMax=true;
	oBtnMin.onclick=function ()
	{
		startMove(oDivContent, (this.isMax=!this.isMax)?iMaxHeight:0, function ()
		{
			oBtnMin.className=oBtnMin.className=='min'?'max':'min';
		});
	};
	oBtnClose.onclick=function () { oDiv.style.display='none'; };
};
function startMove(obj, iTarget, fnCallBackEnd)
{
	if(obj.timer) { clearInterval(obj.timer); }
	obj.timer=setInterval(function () { doMove(obj, iTarget, fnCallBackEnd); }, 30);
}
function doMove(obj, iTarget, fnCallBackEnd)
{
	var iSpeed=(iTarget-obj.offsetHeight)/8;
	if(obj.offsetHeight==iTarget)
	{
		clearInterval(obj.timer);
		obj.timer=null;
		if(fnCallBackEnd) { fnCallBackEnd(); }
	}
	else
	{
		iSpeed=iSpeed>0?Math.ceil(iSpeed):Math.floor(iSpeed);
		obj.style.height=obj.offsetHeight+iSpeed+'px';
		repositionFixed();
	}
}
function repositionFixed()
{
	var oDiv=document.getElementById('miaov_float_layer');
	if(!oDiv) return;
	var width=document.documentElement.clientWidth;
	oDiv.style.left=width-oDiv.offsetWidth+'px';
	oDiv.style.top=100+'px';
}
</script>
"""

_DEPARTMENTS_ZH = (
    "发改局",
    "经信局",
    "教育局",
    "科技局",
    "公安分局",
    "民政局",
    "司法局",
    "财政局",
    "人社局",
    "规划资源分局",
    "生态环境分局",
    "住建局",
    "交通运输局",
    "农业农村局",
    "商务局",
    "文旅局",
    "卫健局",
    "退役军人事务局",
    "应急管理局",
    "审计局",
    "市场监管局",
    "统计局",
    "医保分局",
    "城管局",
    "信访局",
    "数据资源局",
    "投资促进局",
    "机关事务局",
    "档案馆",
    "税务局",
)
_CITY_DEPTS_ZH = (
    "市发改委",
    "市经信局",
    "市教育局",
    "市科技局",
    "市公安局",
    "市民政局",
    "市司法局",
    "市财政局",
    "市人力社保局",
    "市规划和自然资源局",
    "市生态环境局",
    "市建委",
    "市交通运输局",
    "市农业农村局",
    "市商务局",
    "市文广旅游局",
    "市卫生健康委",
    "市应急管理局",
    "市审计局",
    "市市场监管局",
    "市统计局",
    "市医保局",
    "市城管局",
    "市信访局",
    "市数据资源局",
    "市林水局",
    "市园文局",
    "市贸促会",
    "市体育局",
    "市国资委",
)
_PLACES_ZH = (
    "上城区",
    "拱墅区",
    "西湖区",
    "萧山区",
    "余杭区",
    "临平区",
    "钱塘区",
    "富阳区",
    "临安区",
    "桐庐县",
    "淳安县",
    "建德市",
)
_GOV_LINKS = (
    ("中国政府网", "http://www.gov.cn/"),
    ("浙江省人民政府", "http://www.zj.gov.cn/"),
    ("杭州市人民政府", "http://www.hangzhou.gov.cn/"),
    ("浙江政务服务网", "http://www.zjzwfw.gov.cn/"),
    ("国务院客户端", "http://www.gov.cn/home/2016-05/11/content_5046257.htm"),
    ("中国杭州", "http://www.hangzhou.gov.cn/col/col805865/index.html"),
)
_TOPICS_NAV_ZH = (
    (
        "政务公开",
        (
            "政府信息公开指南",
            "政府信息公开制度",
            "政府信息公开年报",
            "法定主动公开内容",
            "依申请公开",
            "重大决策预公开",
            "政策解读",
            "新闻发布会",
            "规划计划",
            "财政预决算",
            "人事信息",
            "统计信息",
        ),
    ),
    (
        "政务服务",
        (
            "办事指南",
            "便民服务",
            "行政审批",
            "公共资源交易",
            "双随机一公开",
            "营商环境",
            "一件事联办",
            "证照办理",
            "社保查询",
            "公积金查询",
        ),
    ),
    ("互动交流", ("区长信箱", "网上咨询", "民意征集", "在线访谈", "常见问题", "投诉举报", "意见征集反馈")),
    (
        "走进滨江",
        ("区情概况", "历史沿革", "行政区划", "领导之窗", "机构职能", "投资指南", "文化旅游", "滨江影像"),
    ),
    (
        "便民服务",
        (
            "教育入学",
            "医疗卫生",
            "社会保障",
            "住房保障",
            "交通出行",
            "户籍办理",
            "婚姻登记",
            "公共法律服务",
            "就业创业",
            "养老服务",
            "水电燃气",
            "垃圾分类指南",
            "天气预报",
            "违章查询",
        ),
    ),
    (
        "信息公开目录",
        (
            "机构概况",
            "政策文件",
            "规范性文件",
            "工作动态",
            "人事信息",
            "规划计划",
            "财政信息",
            "统计信息",
            "重点领域信息",
            "建议提案办理",
            "政府采购",
            "应急管理",
            "审计信息",
            "行政执法",
        ),
    ),
    (
        "专题专栏",
        (
            "优化营商环境",
            "数字化改革",
            "共同富裕示范区建设",
            "清廉滨江",
            "平安滨江",
            "双碳行动",
            "扫黑除恶",
            "文明创建",
            "乡村振兴",
            "人才新政",
            "亚运会服务保障",
            "防汛防台专题",
        ),
    ),
)
_NAV_EN = (
    (
        "About Binjiang",
        ("Overview", "History", "Geography", "Population", "Administrative Divisions", "Climate"),
    ),
    ("Government", ("Leaders", "Departments", "Sub-districts", "Public Notices", "Policies", "Reports")),
    (
        "Business",
        ("Investment Guide", "Industrial Parks", "Incentives", "Talent Programs", "Enterprises", "Trade"),
    ),
    ("Living", ("Education", "Health Care", "Transport", "Housing", "Culture", "Tourism", "Emergency")),
    (
        "Services",
        (
            "Visa and Residence",
            "Work Permits",
            "Driving Licences",
            "Banking",
            "Hospitals",
            "Schools",
            "Housing Rental",
            "Public Transport",
            "Utilities",
            "Legal Aid",
            "Hotlines",
            "Consulates",
        ),
    ),
    (
        "News Center",
        (
            "Latest News",
            "Photo News",
            "Media Coverage",
            "Announcements",
            "Events",
            "Videos",
            "Press Releases",
            "Interviews",
            "Special Reports",
            "Archive",
            "Newsletters",
            "Feedback",
        ),
    ),
    (
        "Invest",
        (
            "High-tech Zone",
            "Internet of Things Park",
            "Baima Lake Creative City",
            "Digital Economy",
            "Life Sciences",
            "Smart Manufacturing",
            "Talent Apartments",
            "Start-up Funds",
            "Incubators",
        ),
    ),
)


def esc(text: str) -> str:
    """HTML-escape text for element content or a double-quoted attribute."""
    return html.escape(text, quote=True)


def shorten(title: str, language: str) -> str:
    """The cut-down title lists show (the full title sits in the `title=` attribute)."""
    limit = 18 if language == "zh" else 48
    return title if len(title) <= limit else title[:limit] + "..."


def column_href(column: Column) -> str:
    """How navigation links a column: `/col/colN/` for the redirecting one, else the index page."""
    return f"/col/col{column.cid}/" if column.link == "redirect" else column.path


# -- chrome ----------------------------------------------------------------------------------------------


def _head(title: str, charset_meta: str, maketime: str, host: str, extra_metas: Iterable[str] = ()) -> str:
    metas = "\n".join(extra_metas)
    return (
        f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        f'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\r\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml">\r\n<head>\r\n{charset_meta}\r\n'
        f"<title>{esc(title)}</title>\r\n"
        '<meta name="Keywords" content="滨江,政府门户,政务公开,政务服务,信息公开,互动交流">'
        "<meta name='Generator' content='大汉版通'><meta name='Author' content='大汉网络'>\r\n"
        f"<meta name='Maketime' content='{maketime}'>\r\n"
        f'<meta name="sitename" content="{SITE_NAME}">\r\n'
        f'<meta name="siteurl"  content="http://{host}/index.html">\r\n'
        '<meta name="guild"    content="">\r\n<meta name="district"    content="">\r\n'
        '<meta name="sitecatalog"    content="">\r\n'
        f'<meta name="SiteName" content="{SITE_NAME}">\r\n<meta name="SiteDomain" content="{host}">\r\n'
        f"<meta name=\"SiteIDCode\" content=\"{SITE_ID_CODE}\">\r\n<meta name='WebId' content='{WEBID}'>\r\n"
        f"{metas}\n{_HEAD_ASSETS}</head>\r\n"
    )


@functools.cache
def _nav(language: str) -> str:
    """Top bar and navigation link farm (same on every page of a language)."""
    rng = random.Random(f"nav:{language}")
    out = ['<div class="top"><div class="top_l">']
    if language == "zh":
        out.append(f"<span>欢迎访问{SITE_NAME}门户网站</span>")
        top: tuple[tuple[str, str], ...] = (
            ("首页", "/"),
            ("English", COLUMNS[0].path),
            ("无障碍浏览", "javascript:;"),
            ("长者模式", "javascript:;"),
            ("手机版", "javascript:;"),
            ("用户登录", "javascript:;"),
        )
    else:
        out.append(f"<span>Welcome to {SITE_NAME_EN}</span>")
        top = (
            ("Home", "/"),
            ("中文版", COLUMNS[1].path),
            ("Contact Us", "javascript:;"),
            ("Sitemap", "javascript:;"),
        )
    out.append('</div><div class="top_r">')
    out += [f'<a href="{href}" target="_self">{esc(name)}</a> | ' for name, href in top]
    out.append(
        '</div></div>\r\n<div class="header"><div class="logo"><a href="/">'
        '<img src="/images/1/logo.png" alt="logo" border="0"></a></div>\r\n'
        '<div class="search"><form action="/jrobot/search.do" method="get" target="_blank">'
        '<input type="text" name="q" class="text"><input type="hidden" name="webid" value="1">'
        '<input type="submit" value=""></form></div></div>\r\n'
    )
    out.append('<div class="nav"><ul class="nav_list">')
    out.append('<li><a href="/">{}</a></li>'.format("首页" if language == "zh" else "Home"))
    for column in COLUMNS:
        if column.link != "iframe" and column.language == language:
            out.append(f'<li><a href="{column_href(column)}" target="_self">{esc(column.name)}</a></li>')
    out.append('</ul></div>\r\n<div class="subnav linkfarm">')
    groups = _TOPICS_NAV_ZH if language == "zh" else _NAV_EN
    for group, items in groups:
        out.append(f"<dl><dt>{esc(group)}</dt>")
        for item in items:
            col = rng.choice([c for c in COLUMNS if c.link != "iframe"])
            out.append(
                f'<dd><a href="{column_href(col)}" target="_blank" title="{esc(item)}">{esc(item)}</a></dd>'
            )
        out.append("</dl>")
    out.append("</div>\r\n")
    return "".join(out)


@functools.cache
def _footer(language: str) -> str:
    """Footer link farm (departments, neighbouring governments) and the site statement lines."""
    out = ['<div class="linkfarm footlinks">']
    if language == "zh":
        out.append("<dl><dt>政府网站</dt>")
        out += [f'<dd><a href="{u}" target="_blank">{esc(n)}</a></dd>' for n, u in _GOV_LINKS]
        out.append("</dl><dl><dt>区级部门</dt>")
        out += [
            f'<dd><a href="http://www.hzbj.gov.cn/dept/{k + 101}/index.html" target="_blank" '
            f'title="滨江区{d}">滨江区{d}</a></dd>'
            for k, d in enumerate(_DEPARTMENTS_ZH)
        ]
        out.append("</dl><dl><dt>市级部门</dt>")
        out += [
            f'<dd><a href="http://www.hangzhou.gov.cn/col/col{1228968101 + k}/index.html" target="_blank" '
            f'title="杭州{d}" class="bt_link1">{d}</a></dd>'
            for k, d in enumerate(_CITY_DEPTS_ZH)
        ]
        out.append("</dl><dl><dt>区县（市）</dt>")
        out += [
            f'<dd><a href="http://www.{k}.hangzhou.gov.cn/" target="_blank" title="{p}人民政府">{p}</a></dd>'
            for k, p in enumerate(_PLACES_ZH)
        ]
        out.append(
            '</dl></div>\r\n<div class="footer"><p><a href="javascript:;">网站地图</a> | '
            '<a href="javascript:;">联系我们</a> | <a href="javascript:;">网站声明</a> | '
            '<a href="javascript:;">隐私保护</a></p>\r\n'
            f"<p>主办单位：{SITE_NAME}办公室　承办单位：滨江区数据资源管理局</p>\r\n"
            f'<p>地址：杭州市滨江区江汉路1515号　邮编：310051　<a href="https://beian.miit.gov.cn/" '
            f'target="_blank">{ICP}</a>　浙公网安备 33010802000123号　网站标识码：{SITE_ID_CODE}</p>\r\n'
            '<p><a href="http://bszs.conac.cn/sitename?method=show&id=0000" target="_blank">'
            '<img src="/images/1/dzjg.png" alt="党政机关" border="0"></a>'
            '<script src="/images/1/jiucuo.js"></script></p></div>\r\n'
        )
    else:
        out.append("<dl><dt>Links</dt>")
        out += [f'<dd><a href="{u}" target="_blank">{esc(n)}</a></dd>' for n, u in _GOV_LINKS]
        out.append("</dl><dl><dt>Departments</dt>")
        out += [
            f'<dd><a href="http://www.hzbj.gov.cn/dept/{k + 101}/index.html" target="_blank">'
            f"Binjiang {d}</a></dd>"
            for k, d in enumerate(_DEPARTMENTS_ZH)
        ]
        out.append("</dl><dl><dt>Hangzhou</dt>")
        out += [
            f'<dd><a href="http://www.hangzhou.gov.cn/col/col{1228968101 + k}/index.html" target="_blank" '
            f'title="Hangzhou {d}" class="bt_link1">Hangzhou {d}</a></dd>'
            for k, d in enumerate(_CITY_DEPTS_ZH)
        ]
        out.append("</dl><dl><dt>Districts</dt>")
        out += [
            f'<dd><a href="http://www.{k}.hangzhou.gov.cn/" target="_blank" title="{p}">{p}</a></dd>'
            for k, p in enumerate(_PLACES_ZH)
        ]
        out.append(
            '</dl></div>\r\n<div class="footer"><p><a href="javascript:;">Sitemap</a> | '
            '<a href="javascript:;">Contact Us</a> | <a href="javascript:;">Disclaimer</a></p>\r\n'
            f"<p>Sponsored by the Office of {SITE_NAME_EN} People's Government</p>\r\n"
            f'<p><a href="https://beian.miit.gov.cn/" target="_blank">{ICP}</a>　'
            f"网站标识码：{SITE_ID_CODE}</p></div>\r\n"
        )
    return "".join(out)


_FLOAT_LAYER = """<div class="float_layer" id="miaov_float_layer">
    <h2>
        <strong> </strong>
        <a id="btn_min" href="javascript:;" class="min"></a>
        <a id="btn_close" href="javascript:;" class="close"></a>
    </h2>
    <div class="content">
        <div class="shengming">
                <a href="javascript:;"><img src="/picture/0/1711151041003031492.jpg" width="400" height="200"
                 align="center" /></a>
        </div>
     </div>
</div>
"""


def _position(zh: bool, href: str, name: str, tail: str) -> str:
    """The breadcrumb line opening the main area."""
    label, home = ("当前位置：", "首页") if zh else ("Location: ", "Home")
    crumb = f'{label}<a href="/">{home}</a> &gt; <a href="{href}">{esc(name)}</a>'
    if tail:
        crumb += f" &gt; {tail}"
    return f'<div class="main"><div class="position">{crumb}</div>\r\n'


def _visit_iframe(kind: int, column_id: int, article_id: int | None = None) -> str:
    src = f"/module/visitcount/visit.jsp?type={kind}&i_webid={WEBID}&i_columnid={column_id}"
    if article_id is not None:
        src += f"&i_articleid={article_id}"
    return (
        f'<!-- visitcount Begin --><iframe src=\'{src}\' name="vishidden" id="vishidden" frameborder="0" '
        'style="width:0; height:0; display:none"></iframe><!-- visitcount End -->\r\n'
    )


def _tail() -> str:
    return f"{_FLOAT_LAYER}{HIDDEN_LINK}\r\n{PAGECONTROL}\r\n</body>\r\n</html>"


_UTF8_META = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'


def _charset_meta(charset: str) -> str:
    if charset == "utf-8":
        return _UTF8_META
    if charset == "gbk-as-gb2312":
        return '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    return '<meta http-equiv="Content-Type" content="text/html; charset=gbk">'


# -- lists -----------------------------------------------------------------------------------------------


def record_li(release: Release, host: str) -> str:
    """One list record: `<li><a href title>SHORT</a><span>YYYY-MM-DD</span></li>`."""
    href = f"http://{host}{release.path}" if release.list_absolute else release.path
    return (
        f'<li><a href="{href}" title="{esc(release.title)}" target="_blank">'
        f"{esc(shorten(release.title, release.language))}</a><span>{release.release_date}</span></li>"
    )


def records_xml(portal: SimulatedPortal, column: Column, start: int, stop: int, host: str) -> str:
    """`<record><![CDATA[<li>…</li>]]></record>` for list positions [start, stop)."""
    return "".join(
        f"<record><![CDATA[{record_li(portal.release(i), host)}]]></record>"
        for i in portal.column_indices(column, start, stop)
    )


def jpage_query(column: Column, page: int) -> str:
    """The GET (page style) dataproxy query string for `column`."""
    webname = urllib.parse.quote(SITE_NAME)
    return (
        f"page={page}&appid=1&webid={WEBID}&path=/&columnid={column.cid}&unitid={column.unitid}"
        f"&webname={webname}&permissiontype=0"
    )


def _jpage_script(column: Column, total: int) -> str:
    """The inline script handing the jpage widget its parameters."""
    unit = column.unitid
    ajax = (
        f"{{col:1,appid:1,webid:{WEBID},path:'/',columnid:{column.cid},sourceContentType:1,unitid:{unit},"
        f"webname:'{SITE_NAME}',permissiontype:0}}"
    )
    return (
        f"<script>\r\n$(document).ready(function(){{ $('#{unit}').jpage({{ "
        f"dataStore: $('#{unit} script[type=\"text/xml\"]'), proxyUrl:'{column.proxy}', totalRecord:{total}, "
        f"perPage:{PER_PAGE}, groupSize:{GROUP_SIZE}, barPosition:'bottom', "
        f"dataBefore:'<ul class=\"list\">', dataAfter:'</ul>', ajaxParam:{ajax}}}); }});\r\n</script>\r\n"
    )


def _iframe(src: str, height: int) -> str:
    """A home-page block pulled in by iframe, as real Hanweb home pages do."""
    return (
        f'<IFRAME src="{src}" frameBorder=0 marginwidth=0 marginheight=0 scrolling=no '
        f'style="width:100% ; height:{height}px;"  scrolling=no ALLOWTRANSPARENCY="true"></IFRAME>'
    )


def column_page(portal: SimulatedPortal, column: Column, host: str) -> str:
    """A column page: first page of records embedded as a `text/xml` datastore, jpage parameters inline."""
    total = portal.column_total(column)
    variant = portal.list_variant(column)
    if variant is not None:
        return _varied_column_page(portal, column, host, variant)
    if column.style == "get":
        nextgroup = f"{column.proxy}?{jpage_query(column, 1)}"
    else:
        nextgroup = f"{column.proxy}?startrecord=1&endrecord={PER_PAGE * GROUP_SIZE}&perpage={PER_PAGE}"
    language = column.language
    maketime = "2024-12-31 23:10:05"
    parts = [
        _head(
            f"{column.name} - {SITE_NAME if language == 'zh' else SITE_NAME_EN}",
            _UTF8_META,
            maketime,
            host,
            [
                f'<meta name="ColumnName" content="{esc(column.name)}">',
                '<meta name="ColumnType" content="列表">',
            ],
        ),
        "<body>\r\n",
        _nav(language),
        _position(language == "zh", column.path, column.name, ""),
        f'<div class="list_title">{esc(column.name)}</div>\r\n<div class="list_con">\r\n',
        '<script language="javascript" src="/module/jpage/jpage.js"></script>\r\n',
        f'<div id="{column.unitid}"><script type="text/xml"><datastore>'
        f'<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup><recordset>',
        records_xml(portal, column, 0, PER_PAGE, host),
        "</recordset></datastore></script></div>\r\n",
        _jpage_script(column, total),
        "</div></div>\r\n",
        _footer(language),
        _visit_iframe(2, column.cid),
        _tail(),
    ]
    return "".join(parts)


def _varied_column_page(portal: SimulatedPortal, column: Column, host: str, variant: ListVariant) -> str:
    """A column page drawn from the list variants (``--vary``): list form, proxy path, totals, a side list."""
    total = portal.column_total(column)
    declared = variant.declared_total(total)
    proxy = variant.proxy
    if variant.answers_get:
        nextgroup = f"{proxy}?{jpage_query(column, variant.nextgroup_page)}"
    else:
        nextgroup = f"{proxy}?startrecord=1&endrecord={PER_PAGE * GROUP_SIZE}&perpage={PER_PAGE}"
    widgets = []
    if variant.side_list:
        source = COLUMNS[variant.side_source]
        unit = column.unitid + SIDE_UNIT_OFFSET
        side = [f"<record><![CDATA[{record_li(portal.release(i), host)}]]></record>"
                for i in portal.column_indices(source, 0, SIDE_RECORDS)]
        side.insert(len(side) // 2, f"<record><![CDATA[{MALFORMED_RECORD}]]></record>")
        form = (f"{{col:1,appid:'1',webid:{WEBID},path:'/',columnid:{column.cid},sourceContentType:1,"
                f"unitid:'{unit}',webname:'{SITE_NAME}',permissiontype:0}}")
        widgets.append(
            f'<div class="side_list"><div id="{unit}"><script type="text/xml"><datastore><recordset>{"".join(side)}'
            f"</recordset></datastore></script></div>\r\n<script>var param_{unit}={form};\r\n"
            f"$(function(){{ $('#{unit}').jpage({{ dataStore: null, perPage: {SIDE_RECORDS}, groupSize: 1, "
            f'totalRecord: {len(side)}, proxyUrl: "{proxy}", ajaxParam: param_{unit} }}); }});</script></div>\r\n')
    jpage = ""
    if variant.answers_post:
        total_part = f"totalRecord:{declared}, " if declared is not None else ""
        ajax = (f"{{col:1,appid:1,webid:{WEBID},path:'/',columnid:{column.cid},sourceContentType:1,"
                f"unitid:{column.unitid},webname:'{SITE_NAME}',permissiontype:0}}")
        jpage = (f"<script>\r\n$(document).ready(function(){{ $('#{column.unitid}').jpage({{ "
                 f"proxyUrl:'{proxy}', {total_part}perPage:{PER_PAGE}, groupSize:{GROUP_SIZE}, "
                 f"barPosition:'bottom', ajaxParam:{ajax}}}); }});\r\n</script>\r\n")
    elif declared is not None:
        jpage = f"<script>var totalRecord_{column.unitid} = {declared};</script>\r\n"
    language = column.language
    parts = [
        _head(f"{column.name} - {SITE_NAME if language == 'zh' else SITE_NAME_EN}", _UTF8_META,
              "2024-12-31 23:10:05", host,
              [f'<meta name="ColumnName" content="{esc(column.name)}">', '<meta name="ColumnType" content="列表">']),
        "<body>\r\n",
        _nav(language),
        _position(language == "zh", column.path, column.name, ""),
        f'<div class="list_title">{esc(column.name)}</div>\r\n<div class="list_con">\r\n',
        '<script language="javascript" src="/module/jpage/jpage.js"></script>\r\n',
        *widgets,
        f'<div id="{column.unitid}"><script type="text/xml"><datastore>'
        f'<nextgroup><![CDATA[<a href="{nextgroup}"></a>]]></nextgroup><recordset>',
        records_xml(portal, column, 0, PER_PAGE, host),
        "</recordset></datastore></script></div>\r\n",
        jpage,
        "</div></div>\r\n",
        _footer(language),
        _visit_iframe(2, column.cid),
        _tail(),
    ]
    return "".join(parts)


def dataproxy_xml(
    portal: SimulatedPortal, column: Column, start: int, stop: int, per_page: int, host: str
) -> str:
    """The dataproxy answer for list positions [start, stop) (0-based)."""
    total = portal.column_total(column)
    pages = -(-total // per_page) if per_page > 0 else 0
    return (
        f'<?xml version="1.0" encoding="utf-8"?><datastore><totalrecord>{total}</totalrecord>'
        f"<totalpage>{pages}</totalpage><recordset>{records_xml(portal, column, start, stop, host)}"
        "</recordset></datastore>"
    )


# -- home ------------------------------------------------------------------------------------------------


def home_page(portal: SimulatedPortal, host: str) -> str:
    """Home page: column blocks (links, iframes, one redirecting link), private and dead links, counter."""
    parts = [
        _head(f"{SITE_NAME}门户网站", '<meta charset="utf-8">', "2024-12-31 23:12:41", host),
        "<body>\r\n",
        _nav("zh"),
        '<div class="main">\r\n',
    ]
    for column in COLUMNS:
        if column.link == "iframe":
            parts.append(f'<div class="block">{_iframe(column.path, 405)}</div>\r\n')
            continue
        href = column_href(column)
        more = "更多&gt;&gt;" if column.language == "zh" else "More&gt;&gt;"
        parts.append(
            f'<div class="block"><div class="block_title"><a href="{href}" style="font-size:16px; '
            f'font-weight:bold; color: #092d83">{esc(column.name)}</a><a href="{href}" class="more">'
            f"{more}</a></div><ul>"
        )
        for i in portal.column_indices(column, 0, 6):
            r = portal.release(i)
            parts.append(
                f"<li><a href='{r.path}'  title='{esc(r.title)}' target='_blank' class='bt_link1'>"
                f"{esc(shorten(r.title, r.language))}</a><span>{r.when:%m-%d}</span></li>"
            )
        parts.append("</ul></div>\r\n")
    parts.append(f'<div class="banner">{_iframe(COLUMNS[1].path, 145)}</div>\r\n')
    parts.append(
        '<div class="special"><a href="/col/col9999/index.html" target="_blank">历史专题</a> '
        '<a href="/private/secret.html" target="_blank">内部办公</a></div>\r\n</div>\r\n'
    )
    parts += [_footer("zh"), _visit_iframe(1, 0), _tail()]
    return "".join(parts)


# -- release pages ---------------------------------------------------------------------------------------


def _paragraph(text: str, indent: str) -> str:
    lead = {"ideographic": "　　", "nbsp": "&nbsp;&nbsp;&nbsp;&nbsp;", "none": ""}[indent]
    style = ' style="text-indent:2em;"' if indent == "nbsp" else ""
    return f"<p{style}>{lead}{esc(text)}</p>\r\n"


def _pubdate(release: Release) -> str:
    if release.date_form == "ymd_hms":
        return release.when.strftime("%Y-%m-%d %H:%M:%S")
    if release.date_form == "ymd_hm":
        return release.when.strftime("%Y-%m-%d %H:%M")
    return release.release_date


def _xxgk_table(release: Release) -> str:
    """The 信息公开 table (索引号, 发布机构, 文号) of releases that have an index number."""
    if not release.index_no:
        return ""
    return (
        '<table class="xxgk_table" width="100%" border="0" cellspacing="0" cellpadding="0">\r\n'
        f'<tr><td class="xxgk_l">索引号：</td><td>{esc(release.index_no)}</td>'
        f'<td class="xxgk_l">分类：</td><td>综合政务\\通知公告</td></tr>\r\n'
        f'<tr><td class="xxgk_l">发布机构：</td><td>{esc(release.source or "")}</td>'
        f'<td class="xxgk_l">文号：</td><td>{esc(release.doc_no or "")}</td></tr>\r\n</table>\r\n'
    )


def _info_zh(release: Release) -> str:
    out = [_xxgk_table(release)] if release.index_no else []
    out.append(
        f'<div class="article_info"><span>发布日期：{release.date_text}</span>&nbsp;&nbsp;'
        f"<span>来源：{esc(release.source or '')}</span>&nbsp;&nbsp;"
        f"<span>浏览次数：{release.hits_text}</span>&nbsp;&nbsp;"
        '<span class="fontsize">字体：【<a href="javascript:doZoom(20)">大</a> '
        '<a href="javascript:doZoom(16)">中</a> <a href="javascript:doZoom(12)">小</a>】</span></div>\r\n'
    )
    return "".join(out)


def _info_en(release: Release) -> str:
    return (
        '<table width="100%" border="0" cellspacing="0" cellpadding="0"><tr><td class="info" align="center">'
        f'ReleaseDate: {release.date_text} ArticleHits: <script language="javascript" '
        f'src="/module/visitcount/articlehits.jsp?colid={release.column.cid}&artid={release.article_id}">'
        "</script></td></tr></table>\r\n"
    )


def _prev_next(portal: SimulatedPortal, release: Release) -> str:
    n = len(COLUMNS)
    zh = release.language == "zh"
    labels = ("上一篇：", "下一篇：") if zh else ("Previous: ", "Next: ")
    out = ['<div class="prevnext">']
    for label, other in zip(labels, (release.index + n, release.index - n), strict=True):
        if 0 <= other < portal.releases:
            r = portal.release(other)
            out.append(f'<p>{label}<a href="{r.path}" title="{esc(r.title)}">{esc(r.title)}</a></p>')
        else:
            out.append(f"<p>{label}{'没有了' if zh else 'None'}</p>")
    out.append("</div>\r\n")
    return "".join(out)


def attachment_href(url: str, asset_host: str) -> str:
    """How a release page links an attachment: absolute on the asset host, else root-relative as stored."""
    return f"http://{asset_host}{url}" if is_asset_path(url) else url


def _title_and_info(release: Release) -> str:
    """The title block and the metadata line (and the 信息公开 table) under it."""
    page = release.page
    if page is not None:
        info = page_variants.info_line(page, release.when, release.source, release.column.cid, release.article_id)
        return page_variants.title_block(page, release.title, _xxgk_table(release) + info)
    if release.language == "zh":
        return f'<div class="article_title"><h1>{esc(release.title)}</h1></div>\r\n' + _info_zh(release)
    return ('<table width="100%" border="0" cellspacing="0" cellpadding="0"><tr>'
            f'<td class="title" align="center">{esc(release.title)}</td></tr></table>\r\n' + _info_en(release))


def _variant_metas(release: Release, page: page_variants.PageVariant) -> list[str]:
    """The article metas of a page-variant release: ArticleTitle, PubDate and contentSource as its template has them."""
    metas = []
    if release.articletitle_meta:
        metas.append(f'<meta name="ArticleTitle" content="{page_variants.article_title_meta(page, release.title)}">')
    pubdate = page_variants.pubdate_meta(page, release.when, release.maketime)
    if pubdate is not None:
        metas.append(f'<meta name="{"pubdate" if release.article_id % 3 == 0 else "PubDate"}" content="{pubdate}">')
        if page.show_source and release.source:
            metas.append(f'<meta name="contentSource" content="{esc(release.source)}">')
    return metas


def release_page(portal: SimulatedPortal, release: Release, host: str, asset_host: str | None = None) -> str:
    """A release page (English template after the seed page, or the Chinese template).

    `asset_host` (host:port of the object store) serves the page's shared share.js and some attachments; without
    one they come from `host`.
    """
    asset_host = asset_host or host
    zh = release.language == "zh"
    site = SITE_NAME if zh else SITE_NAME_EN
    page_title = (
        f"{site} - {release.column.name} - {release.title}"
        if release.title_style == "site-column-title"
        else release.title
    )
    metas = [f'<meta name="ColumnName" content="{esc(release.column.name)}">']
    if release.page is not None:
        page_title = page_variants.page_title(release.page, release.title, site, release.column.name)
        metas += _variant_metas(release, release.page)
    else:
        if release.articletitle_meta:
            metas.append(f'<meta name="ArticleTitle" content="{esc(release.title)}">')
        if release.pubdate_meta:
            metas.append(f'<meta name="PubDate" content="{_pubdate(release)}">')
            if release.source:
                metas.append(f'<meta name="contentSource" content="{esc(release.source)}">')
    begin, end = MARKERS[release.marker_variant]
    if zh:
        begin = "<!--<$[信息内容]>begin-->" + begin
        end += "<!--<$[信息内容]>end-->"
    body = [_paragraph(p, release.indent) for p in release.paragraphs]
    if release.image:
        body.insert(
            1,
            f'<p style="text-align:center;"><img src="/picture/0/{release.article_id}.jpg" border="0" '
            'width="600"></p>\r\n',
        )
    parts = [
        _head(
            page_title,
            _charset_meta(release.charset) if release.page is None else page_variants.charset_meta(release.page),
            release.maketime.strftime("%Y-%m-%d %H:%M:%S"),
            host,
            metas,
        ),
        "<body>\r\n",
        f'<script src="http://{asset_host}/jcms_files/jcms1/web1/site/script/1/share.js"></script>\r\n',
        _nav(release.language),
        _position(zh, column_href(release.column), release.column.name, "正文" if zh else "Text"),
        '<div class="article">\r\n',
        _title_and_info(release),
        f'<div id="zoom">\r\n{begin}\r\n',
        *body,
        HIDDEN_LINK,
        "\r\n",
        f"{end}\r\n" if release.end_marker else "",
        "</div>\r\n",
    ]
    if release.attachments:
        parts.append('<div class="fujian"><span>相关附件：</span><ul>')
        parts += [
            f'<li><a href="{attachment_href(url, asset_host)}" target="_blank">{esc(name)}</a></li>'
            for url, name in release.attachments
        ]
        parts.append("</ul></div>\r\n")
    share = "分享到：" if zh else "Share: "
    parts += [
        f'<div class="share">{share}<a href="javascript:;" class="bds_weixin">微信</a> '
        '<a href="javascript:;" class="bds_tsina">新浪微博</a> '
        '<a href="javascript:;" class="bds_qzone">QQ空间</a></div>\r\n',
        '<div class="print">【<a href="javascript:window.print()">打印本页</a>】'
        '【<a href="javascript:window.close()">关闭窗口</a>】</div>\r\n',
        _prev_next(portal, release),
        "</div></div>\r\n",
        _footer(release.language),
        _visit_iframe(3, release.column.cid, release.article_id),
        _tail(),
    ]
    return "".join(parts)
