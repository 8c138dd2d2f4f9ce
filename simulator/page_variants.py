"""Page-side variation of the simulated portal (``--vary SEED``): how a release page writes its fields.

Each column draws one template (a CMS prints every page of a column alike) and each release a few editor's choices,
from the space real Hanweb portals show (``../shared/HANWEB.md`` sections 5 and 7, and "Variation seen across real
portals"):

- the date line: a label (发布日期 / 发布时间 / 时间 / 日期 / 文章来源 followed by a date, or for English pages
  ReleaseDate / Release Date / Date) with a full-width or ASCII colon, in one element or label and value apart; or no
  label at all (a bare date in a span next to the title); or no visible date;
- the date form (``-``, ``/`` padded or not, ``.``, 年月日 padded or not, ISO ``T``) and precision (seconds, minutes,
  a date alone), and in some templates an explicit UTC offset (``Z``, ``+00:00``: the page shows UTC time);
- the ``PubDate`` meta: absent, the same value, the time of day the visible line omits, the page's build time (it
  must lose), or UTC with ``Z`` / ``+00:00``;
- the count: a number, a number with thousands separators (``12,345`` / ``12 345``), ``1.2万``, an empty element, an
  empty element filled by script, a script tag, the ``次浏览`` suffix form, or none; the count segment may stand
  before the date on the same line, and the font-size bar may follow it;
- the source: present or not, plain, linked, or between ``<$[信息来源]>`` markers;
- the charset declaration (within the encoding the release's text was written for: header and meta, meta only,
  header only, undeclared);
- the title markup (nested tags, entities, ``&amp;``, a ``<br>`` between two CJK halves, markup escaped into the
  ``ArticleTitle`` meta), the ``<title>`` form (title only, site-column-title, title_site) and the title block
  (``h1``, ``div.title``, ``td.title``, or a title block that also holds the info line).

The truth follows from the same values (`PageVariant.date_truth`, `PageVariant.hits`): the schema's date rules
(docs/schema.md, "Dates") applied to what the page prints. Nothing here is used when the portal has no variation
seed, so the classic portal renders byte for byte as before.
"""

from __future__ import annotations

import datetime as dt
import html
import random
from dataclasses import dataclass

#: Labels a Chinese template may put before the release date (None: a bare date without a label).
ZH_DATE_LABELS = ("发布日期", "发布时间", "时间", "日期", "文章来源", None)
EN_DATE_LABELS = ("ReleaseDate", "Release Date", "Date")
ZH_HITS_LABELS = ("浏览次数", "点击数", "访问量", "浏览量", "阅读次数")
EN_HITS_LABELS = ("ArticleHits", "Views", "Hits")
SOURCE_LABELS = ("来源", "信息来源", "文章来源")
DATE_FORMS = ("iso", "iso", "slash", "slash-pad", "dot", "cn", "cn-pad", "iso-t")
PRECISIONS = ("second", "minute", "date")
PUBDATE_MODES = ("absent", "same", "with-time", "build-time", "offset-z", "offset-utc")
HITS_MARKUP = ("number", "grouped", "wan", "empty", "empty-script", "script-src", "suffix", "none")
TITLE_MARKUP = ("plain", "plain", "nested", "entities", "amp", "br", "meta-escaped")
TITLE_TAGS = ("plain", "site-column-title", "title_site")
TITLE_BLOCKS = ("h1", "div", "td", "runon")
#: Charset variants by the encoding the release's text was written for (utf-8 text may hold non-GBK characters).
CHARSET_FAMILIES = {
    "utf-8": ("utf-8", "utf-8-meta-only", "utf-8-header-only", "utf-8-undeclared"),
    "gbk": ("gbk-as-gb2312", "gbk-meta-only", "gbk-header-gb18030"),
}
UTC_OFFSET = dt.timedelta(hours=8)
FONT_BAR = ('<span class="fontsize">【字体：<a href="javascript:doZoom(16)">大</a> '
            '<a href="javascript:doZoom(14)">中</a> <a href="javascript:doZoom(12)">小</a>】</span>')


@dataclass(frozen=True)
class DateTruth:
    """What a correct extractor reads: ``release_date``, ``release_datetime`` (RFC 3339, seconds), precision,
    ``release_source``."""

    date: str
    datetime: str | None
    precision: str | None
    source: str


@dataclass(frozen=True)
class Template:
    """One column's release-page template."""

    date_label: str | None  # None: bare date; "" (English and Chinese): no visible date at all
    colon: str
    label_split: bool
    date_form: str
    precision: str  # second | minute | date
    utc_visible: str | None  # None, "Z" or "+00:00": the visible line prints UTC time with this offset
    pubdate: str
    hits_markup: str
    hits_label: str
    hits_first: bool  # the count segment before the date on the line
    font_bar: bool
    source_label: str
    source_markup: str  # plain | link | comment
    title_tag: str
    title_block: str
    charset_pick: int


@dataclass(frozen=True)
class PageVariant:
    """The page-side choices of one release (its column's template plus the editor's per-page choices)."""

    template: Template
    language: str
    charset: str
    title_markup: str
    hits_value: int | None  # the number the page prints (None: nothing printed)
    show_source: bool

    # -- what the page says ---------------------------------------------------------------------------------

    @property
    def hits(self) -> int | None:
        """The count a reader may take from the page (None when none is printed)."""
        return self.hits_value if self.template.hits_markup in ("number", "grouped", "wan", "suffix") else None

    def date_truth(self, when: dt.datetime, maketime: dt.datetime) -> DateTruth:
        """The schema's date rules (docs/schema.md, "Dates") applied to what this page prints."""
        t = self.template
        date = when.strftime("%Y-%m-%d")
        if t.date_label != "":  # a visible date
            source = "bare_text" if t.date_label is None else "labelled_text"
            if t.precision != "date":
                return DateTruth(date, _rfc3339(when, t.precision), t.precision, source)
            meta = self.pubdate_moment(when, maketime)
            if (meta is not None and meta[1] != "date" and meta[0].date() == when.date()
                    and meta[0].time() != dt.time(0)):
                return DateTruth(date, _rfc3339(meta[0], meta[1]), meta[1], "text_and_meta_time")
            return DateTruth(date, None, None, source)
        meta = self.pubdate_moment(when, maketime)
        if meta is not None:
            precision = meta[1] if meta[1] != "date" else None
            return DateTruth(meta[0].strftime("%Y-%m-%d"), _rfc3339(meta[0], precision), precision, "meta_pubdate")
        return DateTruth(date, None, None, "url_path")

    def pubdate_moment(self, when: dt.datetime, maketime: dt.datetime) -> tuple[dt.datetime, str] | None:
        """The Beijing wall time the ``PubDate`` meta states, and its precision (None: no meta)."""
        mode = self.template.pubdate
        if mode == "absent":
            return None
        if mode == "build-time":
            return maketime, "second"
        if mode in ("offset-z", "offset-utc"):
            return when, "second"
        if mode == "with-time":
            return when, "minute" if self.template.precision == "minute" else "second"
        return when, self.template.precision if self.template.precision != "date" else "date"


def _rfc3339(moment: dt.datetime, precision: str | None) -> str | None:
    if precision not in ("second", "minute"):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S+08:00" if precision == "second" else "%Y-%m-%dT%H:%M:00+08:00")


# -- drawing --------------------------------------------------------------------------------------------------


def draw_template(rng: random.Random, language: str) -> Template:
    """One column's template, drawn so that its truth stays exact."""
    english = language == "en"
    label = rng.choice(EN_DATE_LABELS) if english else rng.choice(ZH_DATE_LABELS)
    if rng.random() < 0.12:
        label = ""  # no visible date: the meta or the URL decides
    precision = rng.choice(PRECISIONS)
    form = rng.choice(DATE_FORMS)
    utc_visible = rng.choice(("Z", "+00:00")) if form == "iso-t" and rng.random() < 0.5 else None
    if utc_visible:
        precision = "second"  # an ISO stamp with an offset carries seconds here
    pubdate = rng.choice(PUBDATE_MODES)
    if label == "" and pubdate == "build-time":
        pubdate = "same"  # with nothing visible, a build-time meta would be the truth nobody can check
    if precision != "date" and pubdate == "with-time":
        pubdate = "same"
    if label == "文章来源" and precision == "date":
        precision = "second"  # 文章来源：2015-07-13 10:44:17, the date line of a migrated template
    hits_markup = rng.choice(HITS_MARKUP if not english else ("number", "grouped", "empty", "script-src", "none"))
    return Template(
        date_label=label,
        colon=rng.choice((":", ": ") if english else ("：", "：", ":", "： ")),
        label_split=not english and rng.random() < 0.3,
        date_form="iso" if english and form not in ("iso", "iso-t", "slash") else form,
        precision=precision,
        utc_visible=utc_visible,
        pubdate=pubdate,
        hits_markup=hits_markup,
        hits_label=rng.choice(EN_HITS_LABELS if english else ZH_HITS_LABELS),
        hits_first=rng.random() < 0.35,
        font_bar=rng.random() < 0.6,
        source_label=rng.choice(SOURCE_LABELS),
        source_markup=rng.choice(("plain", "plain", "link", "comment")),
        title_tag=rng.choice(TITLE_TAGS),
        title_block="td" if english else rng.choice(TITLE_BLOCKS),
        charset_pick=rng.randrange(12),
    )


def draw_page(template: Template, rng: random.Random, language: str, text_charset: str,
              classic_hits: int | None) -> PageVariant:
    """The page variant of one release; ``text_charset`` is the classic charset its text was written for."""
    family = CHARSET_FAMILIES["utf-8" if text_charset == "utf-8" else "gbk"]
    hits = classic_hits if classic_hits is not None else rng.randint(0, 900)
    if template.hits_markup == "grouped":
        hits = rng.randint(1_000, 999_999)
    elif template.hits_markup == "wan":
        hits = rng.randint(10, 999) * 1_000  # printed as 1.2万 … 99.9万: exact
    return PageVariant(
        template=template,
        language=language,
        charset=family[template.charset_pick % len(family)],
        title_markup="plain" if language == "en" else rng.choice(TITLE_MARKUP),
        hits_value=hits,
        show_source=language == "zh" and rng.random() < 0.85,
    )


# -- rendering ------------------------------------------------------------------------------------------------


def _date_part(moment: dt.datetime, form: str) -> str:
    y, m, d = moment.year, moment.month, moment.day
    return {
        "iso": f"{y:04d}-{m:02d}-{d:02d}", "iso-t": f"{y:04d}-{m:02d}-{d:02d}", "slash": f"{y}/{m}/{d}",
        "slash-pad": f"{y}/{m:02d}/{d:02d}", "dot": f"{y}.{m:02d}.{d:02d}", "cn": f"{y}年{m}月{d}日",
        "cn-pad": f"{y}年{m:02d}月{d:02d}日",
    }[form]


def visible_date(page: PageVariant, when: dt.datetime) -> str:
    """The date as the page's visible line prints it."""
    t = page.template
    moment = when - UTC_OFFSET if t.utc_visible else when
    date = _date_part(moment, t.date_form)
    if t.precision == "date":
        return date
    hour = f"{moment.hour}" if t.date_form == "slash" else f"{moment.hour:02d}"
    clock = f"{hour}:{moment.minute:02d}" + (f":{moment.second:02d}" if t.precision == "second" else "")
    if t.date_form == "iso-t":
        return f"{date}T{clock}{t.utc_visible or ''}"
    return f"{date} {clock}"


def pubdate_meta(page: PageVariant, when: dt.datetime, maketime: dt.datetime) -> str | None:
    """The ``PubDate`` meta's content (None: no meta)."""
    stated = page.pubdate_moment(when, maketime)
    mode = page.template.pubdate
    if stated is None:
        return None
    moment, precision = stated
    if mode in ("offset-z", "offset-utc"):
        return (moment - UTC_OFFSET).strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if mode == "offset-z" else "+00:00")
    if precision == "date":
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M:%S" if precision == "second" else "%Y-%m-%d %H:%M")


def _labelled(t: Template, label: str, value: str) -> str:
    if t.label_split:
        return f'<span class="lab">{label}{t.colon}</span><span class="val">{value}</span>'
    return f"<span>{label}{t.colon}{value}</span>"


def _hits_markup(page: PageVariant, column_id: int, article_id: int) -> str:
    t = page.template
    counter = f"/module/visitcount/articlehits.jsp?colid={column_id}&artid={article_id}"
    value = page.hits_value or 0
    markup = t.hits_markup
    if markup == "number":
        return f'<span id="hits">{value}</span>'
    if markup == "grouped":
        sep = "," if article_id % 2 else " "
        return f'<span id="hits">{value:,}</span>'.replace(",", sep)
    if markup == "wan":
        return f"{value / 10_000:g}万".replace(".0万", "万")
    if markup == "empty":
        return '<span id="hits"></span>'
    if markup == "empty-script":
        return (f'<span id="hits_{article_id}"></span><script>$.get("{counter}",function(d){{'
                f'$("#hits_{article_id}").html(d);}});</script>')
    return f'<script language="javascript" src="{counter}"></script>'  # script-src


def _hits_segment(page: PageVariant, column_id: int, article_id: int) -> str:
    t = page.template
    if t.hits_markup == "none":
        return ""
    if t.hits_markup == "suffix":
        return f"<span><span id=\"count\">{page.hits_value}</span>次浏览</span>"
    return _labelled(t, t.hits_label, _hits_markup(page, column_id, article_id))


def _source_segment(page: PageVariant, source: str | None) -> str:
    t = page.template
    if not page.show_source or not source:
        return ""
    value = html.escape(source)
    if t.source_markup == "link":
        value = f'<a href="http://www.zj.gov.cn/" target="_blank">{value}</a>'
    elif t.source_markup == "comment":
        value = f"<!--<$[信息来源]>begin-->{value}<!--<$[信息来源]>end-->"
    return _labelled(t, t.source_label if t.date_label != "文章来源" else "信息来源", value)


def info_line(page: PageVariant, when: dt.datetime, source: str | None, column_id: int, article_id: int) -> str:
    """The metadata line under the title."""
    t = page.template
    if t.date_label == "":
        date = ""
    elif t.date_label is None:
        date = f'<span class="time">{visible_date(page, when)}</span>'
    else:
        date = _labelled(t, t.date_label, visible_date(page, when))
    hits = _hits_segment(page, column_id, article_id)
    segments = [hits, date, _source_segment(page, source)] if t.hits_first else [
        date, _source_segment(page, source), hits]
    if t.font_bar:
        segments.append(FONT_BAR)
    return '<div class="article_info">' + "&nbsp;&nbsp;".join(s for s in segments if s) + "</div>\r\n"


def title_html(page: PageVariant, title: str) -> str:
    """The title as the visible title element's markup writes it (the truth is ``title``)."""
    markup = page.title_markup
    if markup == "nested" and len(title) > 4:
        cut = len(title) // 2
        return f'<font color="#0033cc"><span>{html.escape(title[:cut])}</span><b>{html.escape(title[cut:])}</b></font>'
    if markup == "entities":
        return html.escape(title).replace("“", "&ldquo;").replace("”", "&#8221;").replace("《", "&#12298;")
    if markup == "br" and len(title) > 6:
        cut = len(title) // 2
        return f"{html.escape(title[:cut])}<br>{html.escape(title[cut:])}"
    return html.escape(title)


def article_title_meta(page: PageVariant, title: str) -> str:
    """The ``ArticleTitle`` meta's content attribute value (escaped for a double-quoted attribute)."""
    if page.title_markup == "meta-escaped":  # the CMS copied the editor's markup into the meta
        return html.escape(f'<div style="text-align:center">{title}</div>', quote=True)
    return html.escape(title, quote=True)


def title_block(page: PageVariant, title: str, info: str) -> str:
    """The title block, and the info line (inside it for the "runon" block)."""
    block = page.template.title_block
    inner = title_html(page, title)
    if block == "h1":
        return f'<div class="article_title"><h1>{inner}</h1></div>\r\n{info}'
    if block == "div":
        return f'<div class="title">{inner}</div>\r\n{info}'
    if block == "td":
        return (f'<table width="100%" border="0" cellspacing="0" cellpadding="0"><tr><td class="title" '
                f'align="center">{inner}</td></tr></table>\r\n{info}')
    return f'<div class="detail_title">{inner}\r\n{info}</div>\r\n'  # runon: the info line inside the title block


def page_title(page: PageVariant, title: str, site: str, column: str) -> str:
    """The ``<title>`` text."""
    tag = page.template.title_tag
    if tag == "site-column-title":
        return f"{site} - {column} - {title}"
    if tag == "title_site":
        return f"{title}_{site}"
    return title


def charset_meta(page: PageVariant) -> str:
    """The charset declaration in the page (empty when the variant declares none there)."""
    if page.charset in ("utf-8", "utf-8-meta-only"):
        return '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    if page.charset in ("gbk-as-gb2312", "gbk-header-gb18030"):
        return '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    if page.charset == "gbk-meta-only":
        return '<meta http-equiv="Content-Type" content="text/html; charset=gbk">'
    return '<meta http-equiv="X-UA-Compatible" content="IE=edge">'  # header only, or undeclared


#: The Content-Type header of each charset variant.
CONTENT_TYPES = {
    "utf-8": "text/html; charset=UTF-8",
    "utf-8-meta-only": "text/html",
    "utf-8-header-only": "text/html; charset=utf-8",
    "utf-8-undeclared": "text/html",
    "gbk-as-gb2312": "text/html; charset=gb2312",
    "gbk-meta-only": "text/html",
    "gbk-header-gb18030": "text/html; charset=GB18030",
}


def codec(charset: str) -> str:
    """The codec the page bytes are written in."""
    return "utf-8" if charset.startswith("utf-8") else "gbk"
