"""Draw a whole portal from a seed: site structure, list widgets and endpoints, templates, releases, truth.

:func:`draw_site` is the seeded portal of the held-out tests. :class:`ReleaseFactory`, :func:`plain_style` and
:func:`make_unit` are the building blocks the hostile servers (:mod:`hostile`) put together by hand.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from . import text
from .dates import truth_of
from .model import ArticleStyle, Attachment, Column, ListApi, Release, Site, Unit

INFO_KINDS = ["line", "line", "bare-span", "haikou", "english", "gk-table", "source-date", "meta-only", "line"]
API_VARIANTS = ["both", "ranges-only", "broken-ranges", "pages-only", "pagenum"]
PROXY_PATHS = ["/module/web/jpage/dataproxy.jsp", "/module/jpage/dataproxy.jsp",
               "/module/jslib/jquery/jpage/dataproxy.jsp"]
EXTENSIONS = {"pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "zip": "application/zip", "wps": "application/vnd.ms-works"}


def plain_style(**changes: object) -> ArticleStyle:
    """The most ordinary Hanweb template (labelled line, markers, seconds); hostile servers use it."""
    return replace(ArticleStyle(), **changes)  # type: ignore[arg-type]


def draw_style(rng: random.Random, charset: str) -> ArticleStyle:
    """One column's release template, drawn with the constraints that keep its truth exact."""
    info = rng.choice(INFO_KINDS)
    style = ArticleStyle(
        info=info,
        layout=rng.choice(["markers-zoom", "markers-zoom", "zoom", "markers-div"]),
        date_label=rng.choice(["发布日期", "发布时间", "时间", "日期", "发布时间"]),
        date_form=rng.choice(["iso", "iso", "slash", "slash-pad", "dot", "cn", "cn-pad"]),
        visible=rng.choice(["second", "minute", "date"]),
        meta_precision=rng.choice(["second", "minute"]),
        hits=rng.choice(["number", "number", "empty-script", "script-src", "artcount", "suffix-empty", "none"]),
        hits_label=rng.choice(["浏览次数", "点击数", "访问量", "浏览量"]),
        font_bar=rng.random() < 0.6,
        source_markup=rng.choice(["plain", "plain", "comment"]),
        source_label=rng.choice(["来源", "信息来源", "文章来源"]),
        title_block=rng.choice(["div", "h1", "td"]),
        title_tag=rng.choice(["title-only", "three-part", "title-site"]),
        article_title_meta=rng.random() < 0.5,
        hidden_link_in_body=rng.random() < 0.4,
        hidden_location=rng.random() < 0.2,
        charset=charset,
        charset_in_header=rng.random() < 0.7,
        crlf=rng.random() < 0.7,
        prev_next=rng.random() < 0.7,
    )
    style.hits_first = style.hits != "number" and rng.random() < 0.6
    style.colon = rng.choice(["：", "：", ":", ": "])
    style.label_split = rng.random() < 0.3
    style.hits_suffix = rng.choice(["", "", "次"])
    style.source_link = rng.random() < 0.2
    style.spaced_labels = rng.random() < 0.5
    if info == "meta-only":
        style.visible = "none"
        style.pubdate = rng.choice(["with-time", "same", "offset-z", "offset-utc", "date-only", "absent"])
        if style.pubdate.startswith("offset"):
            style.meta_precision = "second"  # an ISO stamp with an offset always carries seconds
    elif info == "haikou":
        style.visible, style.hits = rng.choice(["second", "minute"]), "none"
        style.date_form = rng.choice(["iso", "slash"])
    elif info == "english":
        style.visible, style.date_form, style.date_label = "second", "iso", "ReleaseDate"
        style.hits = rng.choice(["empty-script", "number", "none"])
    elif info == "gk-table":
        style.visible, style.hits = "date", "none"
        style.date_form = rng.choice(["iso", "cn", "cn-pad"])
        style.signed_date = rng.random() < 0.6
    elif info == "source-date":
        style.visible, style.date_form = rng.choice(["second", "minute"]), "iso"
    if style.visible == "date":
        style.pubdate = rng.choice(["with-time", "with-time", "same", "build-time", "absent"])
    elif style.visible != "none":
        style.pubdate = rng.choice(["same", "build-time", "absent"])
    return style


class ReleaseFactory:
    """Makes releases (text, source, count, attachments) for a site; deterministic from its ``rng``."""

    def __init__(self, rng: random.Random, webid: int, shared_form: Attachment | None = None) -> None:
        self.rng = rng
        self.webid = webid
        self.shared_form = shared_form
        self.files = 0

    def attachment(self, host: str, inline: bool) -> Attachment:
        """A small file on the portal (downfile.jsp) or on the object store (jcms_files path)."""
        rng = self.rng
        self.files += 1
        ext = rng.choice(list(EXTENSIONS))
        name = f"{rng.choice(text.FILE_WORDS)}{self.files}.{ext}"
        digest = f"{rng.getrandbits(128):032x}"
        if host == "asset":
            path = f"/jcms_files/jcms1/web{self.webid}/site/attach/0/{digest}.{ext}"
        else:
            path = f"/module/download/downfile.jsp?classid=0&filename={digest}.{ext}"
        noise = bytes(rng.getrandbits(8) for _ in range(rng.randint(200, 3000)))
        body = f"%{ext.upper()} held-out attachment {digest}\n".encode() + noise
        return Attachment(host, path, name, EXTENSIONS[ext], body, inline)

    def title(self, style: ArticleStyle, english: bool) -> tuple[str, str]:
        """(title text, title markup) in the markup variant the template and the editor produce."""
        rng = self.rng
        if english:
            title = text.en_title(rng)
            return title, title.replace("&", "&amp;")
        markup = rng.choices(["plain", "nested", "entities", "amp"], [6, 2, 2, 1])[0]
        if markup == "entities":
            topic = rng.choice(text.TOPICS)
            title = f"关于“{topic}”{rng.choice(text.TAILS)}"
            return title, title.replace("“", "&ldquo;").replace("”", "&#8221;")
        if markup == "amp":
            a, b = rng.sample(text.SUBJECTS, 2)
            title = f"{a}&{b}联合开展{rng.choice(text.TOPICS)}检查"
            return title, title.replace("&", "&amp;")
        title = text.zh_title(rng)
        if markup == "nested":
            cut = rng.randint(2, len(title) - 2)
            return title, f'<font color="#0033cc"><span>{title[:cut]}</span><b>{title[cut:]}</b></font>'
        return title, title

    def make(self, column_id: int, article_id: int, moment: datetime, style: ArticleStyle,
             attachments: bool = True) -> Release:
        """One release under ``style``, its truth computed from the same values the page prints."""
        rng = self.rng
        style = replace(style)
        english = style.info == "english"
        title, title_html = self.title(style, english)
        source: str | None = rng.choice(text.SOURCES)
        if english or style.info == "source-date" or (style.info != "gk-table" and rng.random() < 0.15):
            source = None
        hits = None
        if style.hits == "number":
            hits = rng.choice([0, rng.randint(1, 99), rng.randint(100, 9999)])
        index_no = doc_no = None
        signed = None
        if style.info == "gk-table":
            index_no = f"{rng.randint(10**9, 10**10 - 1)}/{moment.year}-{rng.randint(1, 99999):05d}"
            doc_no = f"{rng.choice(['杭滨', '温鹿', '绍越'])}政办发〔{moment.year}〕{rng.randint(1, 99)}号"
            signed = moment - timedelta(days=rng.randint(2, 20))
        count = rng.randint(2, 6)
        paragraphs = [(text.en_paragraph if english else text.zh_paragraph)(rng, i + 1) for i in range(count)]
        files: list[Attachment] = []
        if attachments and rng.random() < 0.3:
            for _ in range(rng.randint(1, 3)):
                files.append(self.attachment(rng.choice(["portal", "asset"]), rng.random() < 0.3))
            if self.shared_form is not None and rng.random() < 0.3:
                files.append(self.shared_form)
        truth = truth_of(moment, style.visible, style.pubdate, style.meta_precision)
        return Release(column_id, article_id, moment, text.gbk_safe(title), title_html, source, hits, index_no, doc_no,
                       paragraphs, "en" if english else "zh", files, style, truth, signed)


def make_unit(unit_id: int, column_id: int, releases: list[Release], *, role: str = "main", per_page: int = 15,
              group_size: int = 3, declared: int | None = -1, endpoint: int = -1, record_style: str = "li",
              title: str = "") -> Unit:
    """A list widget; ``declared``/``endpoint`` -1 mean the honest count."""
    honest = len(releases)
    return Unit(unit_id, column_id, role, releases, per_page, group_size, honest if declared == -1 else declared,
                honest if endpoint == -1 else endpoint, record_style, title=title or role)


def _draw_api(rng: random.Random, seed: int) -> tuple[ListApi, str]:
    """The list endpoints a site answers; the variant cycles with the seed so consecutive seeds cover them all."""
    variant = API_VARIANTS[seed % len(API_VARIANTS)]
    api = ListApi(proxy_path=rng.choice(PROXY_PATHS), unanswered=rng.choice(["404", "empty"]),
                  nextgroup_base=rng.choice([0, 1]), page_unit=rng.choice(["page", "group"]),
                  jpage_style=rng.choice(["inline", "param-var"]),
                  xml_order=rng.choice(["total-first", "recordset-first"]))
    if variant == "ranges-only":
        api.pages = False
    elif variant == "broken-ranges":
        api.ranges_broken = True
    elif variant == "pages-only":
        api.ranges, api.jpage_style = False, "none"
    elif variant == "pagenum":
        api.ranges = api.pages = False
        api.pagenum, api.jpage_style = True, "none"
    return api, variant


def _moments(rng: random.Random, count: int) -> list[datetime]:
    start = datetime(2015, 1, 1)
    out = []
    for _ in range(count):
        day = start + timedelta(days=rng.randint(0, 3650))
        out.append(day.replace(hour=rng.randint(0, 23), minute=rng.randint(0, 59), second=rng.randint(0, 59)))
    return sorted(out)


def _declared(rng: random.Random, honest: int, pagenum: bool) -> tuple[int | None, int, str]:
    """(page totalRecord, endpoint totalrecord, note) for a main list of ``honest`` records.

    A static pager's 尾页 link follows the declared total, so pagenum sites get no huge totals (a 上一页 walk back
    from page 200,000 is a trap of another kind).
    """
    kinds = ["honest", "honest", "stale", "stale-both", "missing"] + ([] if pagenum else ["huge"])
    kind = rng.choice(kinds)
    if kind == "stale":
        return max(1, honest * 2 // 5), honest, "page total stale"
    if kind == "stale-both":
        return max(1, honest // 3), max(1, honest // 3), "page and endpoint totals stale"
    if kind == "huge":
        return 3_000_000, rng.choice([honest, 3_000_000]), "huge declared total"
    if kind == "missing":
        return None, honest, "no totalRecord"
    return honest, honest, "honest totals"


def draw_site(seed: int, releases: int | None = None) -> Site:
    """The seeded held-out portal (100-400 releases unless ``releases`` says)."""
    rng = random.Random(f"heldout-{seed}")
    webid = rng.randint(2, 90)
    name = f"{rng.choice(text.CITIES)}{rng.choice(text.DISTRICTS)}区人民政府"
    charset = rng.choice(["utf-8", "utf-8", "gbk"])
    build_time = datetime(2023, rng.randint(1, 12), rng.randint(1, 28), rng.randint(8, 20), rng.randint(0, 59), 7)
    api, variant = _draw_api(rng, seed)
    notes = [f"list api: {variant} at {api.proxy_path} (page unit {api.page_unit}, nextgroup base "
             f"{api.nextgroup_base}, unanswered {api.unanswered}, jpage {api.jpage_style})", f"charset {charset}"]
    total = releases or rng.randint(100, 400)
    n_list = rng.randint(5, 8)
    ids = rng.sample(range(1000, 99999), n_list + 6)
    names = rng.sample(text.COLUMN_NAMES, n_list + 2)
    factory = ReleaseFactory(rng, webid)
    factory.shared_form = factory.attachment("portal", False)
    factory.shared_form.name = "信息公开申请表.doc"
    columns: dict[int, Column] = {}
    list_ids = ids[:n_list]
    weights = [rng.random() + 0.2 for _ in list_ids]
    weights[0] += sum(weights) * 0.4  # one long list: many pages
    side_only = rng.random() < 0.7
    side_count = rng.randint(8, 25) if side_only else 0
    shares = [max(3, int((total - side_count) * w / sum(weights))) for w in weights]
    shares[0] += total - side_count - sum(shares)
    all_releases: list[Release] = []
    article_id = rng.randint(10_000, 3_000_000)
    per_column: dict[int, list[Release]] = {}

    def fill(column_id: int, count: int, style: ArticleStyle) -> list[Release]:
        nonlocal article_id
        made = []
        moments = _moments(rng, count)
        if style.pubdate.startswith("offset") and moments:
            moments[0] = moments[0].replace(hour=3)  # the UTC date is the day before
        for moment in moments:
            article_id += rng.randint(1, 40)
            made.append(factory.make(column_id, article_id, moment, style))
        return made

    for column_id, column_name, share in zip(list_ids, names[:n_list], shares, strict=True):
        column_charset = charset
        style = draw_style(rng, column_charset)
        if charset == "utf-8" and rng.random() < 0.15:
            style.charset, style.charset_in_header = "gbk", False  # an older template kept in GBK
        columns[column_id] = Column(column_id, column_name, "list")
        per_column[column_id] = fill(column_id, share, style)
        notes.append(f"column {column_id} {column_name}: {share} releases, template {style.info}/{style.layout}/"
                     f"{style.visible}/{style.pubdate}/{style.hits}/{style.charset}")
    if side_only:
        side_id = ids[n_list]
        columns[side_id] = Column(side_id, names[n_list], "side-only", link="none")
        per_column[side_id] = fill(side_id, side_count, draw_style(rng, charset))
        notes.append(f"side-only column {side_id}: {side_count} releases, listed only by a side widget")
    twin_from = rng.choice(per_column[list_ids[1]])
    twin = factory.make(list_ids[2], twin_from.article_id, twin_from.moment + timedelta(days=3),
                        per_column[list_ids[2]][0].style if per_column[list_ids[2]] else plain_style())
    per_column[list_ids[2]].append(twin)
    notes.append(f"article id {twin.article_id} under columns {list_ids[1]} and {list_ids[2]} (different content)")
    for made in per_column.values():
        made.sort(key=lambda r: r.moment, reverse=True)
        all_releases.extend(made)
    _place_bad_links(rng, all_releases, notes)
    site = Site(seed, name, webid, charset, build_time, columns, all_releases, api, [], [], [], notes=notes,
                gzip=rng.random() < 0.4, home_redirect=rng.random() < 0.5, robots=rng.choice(["404", "allow"]))
    _structure(rng, site, list_ids, ids[n_list + 1:], per_column, side_only and ids[n_list])
    return site


def _place_bad_links(rng: random.Random, releases: list[Release], notes: list[str]) -> None:
    """A malformed attachment link and a malformed image in the body of a few releases."""
    victims = rng.sample(releases, 3)
    victims[0].bad_attachment_hrefs.append("http://[bad/附件.pdf")
    victims[1].style = replace(victims[1].style, bad_image=True)
    victims[2].bad_attachment_hrefs.append("//[x/y.doc")
    notes.append(f"malformed attachment links on {victims[0].path} and {victims[2].path}; bad <img> on "
                 f"{victims[1].path}")


def _structure(rng: random.Random, site: Site, list_ids: list[int], spare_ids: list[int],
               per_column: dict[int, list[Release]], side_id: int | bool) -> None:
    """Nav bar, parents and sub-columns, iframes, a redirect, related links, list widgets, side lists."""
    columns = site.columns
    parent_names = rng.sample(text.PARENT_NAMES, 2)
    parents = [Column(spare_ids[0], parent_names[0], "parent"), Column(spare_ids[1], parent_names[1], "parent")]
    for parent in parents:
        columns[parent.column_id] = parent
    order = list_ids[:]
    rng.shuffle(order)
    links = ["nav", "subnav", "subnav", "iframe", "redirect", "related", "nav", "subnav"]
    nav: list[int] = [parents[0].column_id]
    for index, column_id in enumerate(order):
        column = columns[column_id]
        column.link = links[index % len(links)]
        if column.link == "nav":
            nav.append(column_id)
        elif column.link == "subnav":
            parent = parents[index % 2]
            column.parent = parent.column_id
            parent.children.append(column_id)
        elif column.link == "iframe":
            site.iframes.append(column_id)
        elif column.link == "redirect":
            column.old_id = spare_ids[2]
            nav.append(column_id)
        elif column.link == "related":
            host = next(c for c in order if columns[c].link == "subnav")
            columns[host].related.append(column_id)
    if not parents[1].children:
        parents[1].children.append(order[0])
        columns[order[0]].link = "subnav" if columns[order[0]].link == "nav" else columns[order[0]].link
    parents[0].children.append(parents[1].column_id)  # a sub-column that is itself a parent
    parents[1].parent = parents[0].column_id
    site.nav = nav
    how = {"nav": "the nav bar", "subnav": "a parent column's sub-nav", "iframe": "a home-page iframe only",
           "redirect": "the nav bar through a 302 from an old column id", "related": "another column's 相关栏目 box"}
    site.notes.append("columns linked from: " + "; ".join(
        f"{c} {how[columns[c].link]}" + (f" (parent {columns[c].parent})" if columns[c].parent else "")
        for c in order))
    if rng.random() < 0.5:
        site.bad_nav_hrefs.append(rng.choice(["http://[bad/x.html", "//[x/y"]))
        site.bad_nav_everywhere = rng.random() < 0.3
        site.notes.append(f"malformed nav link {site.bad_nav_hrefs[0]} on the home page"
                          + (" and every other page" if site.bad_nav_everywhere else ""))
    unit_id = rng.randint(10_000, 400_000)
    for column_id in list_ids:
        unit_id += rng.randint(1, 900)
        made = per_column[column_id]
        declared, endpoint, note = _declared(rng, len(made), site.api.pagenum)
        unit = make_unit(unit_id, column_id, made, per_page=rng.choice([10, 12, 15, 20]),
                         group_size=rng.choice([1, 3, 5]), declared=declared, endpoint=endpoint,
                         record_style=rng.choice(["li", "table", "div-abs"]), title=columns[column_id].name)
        columns[column_id].units.append(unit)
        site.notes.append(f"column {column_id} main unit {unit_id}: {note} (page {declared}, endpoint {endpoint}, "
                          f"{len(made)} served, perPage {unit.per_page}, groupSize {unit.group_size})")
    if rng.random() < 0.5:
        victim = columns[list_ids[-1]].units[0]
        victim.bad_records[rng.randint(0, max(0, len(victim.releases) - 1))] = "//[x/y"
        site.notes.append(f"malformed record link in unit {victim.unit_id}")
    hosts = rng.sample(list_ids, 2)
    if side_id:
        unit_id += 7
        side = make_unit(unit_id, hosts[0], per_column[int(side_id)], role="side", per_page=5, group_size=1,
                         declared=rng.choice([5, len(per_column[int(side_id)])]), record_style="li",
                         title=columns[int(side_id)].name)
        columns[hosts[0]].units.insert(0, side)
        site.notes.append(f"side unit {unit_id} before the main list of column {hosts[0]} lists the side-only column")
    unit_id += 11
    hot = rng.sample(site.releases, 6)
    hot_unit = make_unit(unit_id, hosts[1], hot, role="side", per_page=6, group_size=1, record_style="li",
                         title=rng.choice(text.SIDE_NAMES))
    columns[hosts[1]].units.insert(rng.choice([0, 1]), hot_unit)
    site.notes.append(f"side unit {unit_id} ({hot_unit.title}) on column {hosts[1]} repeats releases of other columns")
    site.home_latest = sorted(site.releases, key=lambda r: r.moment, reverse=True)[:8]
