"""Small hostile servers, one per loss path of issues 11 and 13, each with what the crawl must do about it.

Each :class:`Case` is a tiny Hanweb portal (plain templates, honest lists unless the case says otherwise) plus the
one habit under test, and the expectations: releases that must be archived, releases that must end as a failure row
with a reason (never a release row), releases that must end as exactly one of the two, request bounds and a time
bound. :func:`cases` builds them all, deterministically.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .generate import ReleaseFactory, make_unit, plain_style
from .model import Column, ListApi, Release, Site
from .server import Behaviour, Request

SOFT_404 = ("<html><head><title>页面不存在</title></head><body><div class='error'>"
            "对不起，您访问的页面不存在或已被删除！<a href='/index.html'>返回首页</a></div></body></html>")
META_REFRESH = ('<html><head><meta http-equiv="refresh" content="0;url=javascript:void(0)"></head>'
                "<body></body></html>")


@dataclass
class Case:
    """One hostile server and what a correct crawl of it does."""

    name: str
    issue: str
    what: str
    site: Site
    behaviour: Behaviour = field(default_factory=Behaviour)
    settings: dict[str, str] = field(default_factory=dict)
    deadline: float = 30
    must_archive: list[str] = field(default_factory=list)  # release paths
    must_fail: list[str] = field(default_factory=list)  # paths: a failure row with a reason, no release row
    row_or_failure: list[str] = field(default_factory=list)  # paths: exactly one of the two
    request_bounds: dict[str, tuple[Callable[[Request], bool], int]] = field(default_factory=dict)
    prompt_seconds: float | None = None  # must_archive (but the delayed page) archived within this many seconds
    delayed: list[str] = field(default_factory=list)
    long_urls: list[str] = field(default_factory=list)  # attachment paths that must be skipped with a reason
    max_memory: int | None = None  # bytes of the crawl's memusage/max
    check_fields: bool = False  # also compare every archived release's fields with the truth
    distinct_ids: list[str] = field(default_factory=list)  # paths of different releases that need different ids


def tiny_site(seed: int, sizes: list[int], *, api: ListApi | None = None, per_page: int = 15) -> Site:
    """A portal of ``len(sizes)`` nav columns with honest lists, plain templates and no attachments."""
    rng = random.Random(f"hostile-{seed}")
    factory = ReleaseFactory(rng, 7)
    columns: dict[int, Column] = {}
    releases: list[Release] = []
    article_id = 50_000 + seed * 1000
    for index, size in enumerate(sizes):
        column_id = 4100 + index
        made = []
        for n in range(size):
            article_id += 1
            moment = datetime(2021, 1 + n % 12, 1 + n % 28, 9, n % 60, 30)
            made.append(factory.make(column_id, article_id, moment, plain_style(), attachments=False))
        made.sort(key=lambda r: r.moment, reverse=True)
        column = Column(column_id, f"栏目{index + 1}", "list")
        column.units.append(make_unit(90_000 + index, column_id, made, per_page=per_page, group_size=1))
        columns[column_id] = column
        releases += made
    return Site(seed, "测试区人民政府", 7, "utf-8", datetime(2023, 5, 6, 7, 8, 9), columns, releases,
                api or ListApi(), list(columns), [], [])


def _paths(site: Site) -> list[str]:
    return [r.path for r in site.releases]


def _list_requests(request: Request) -> bool:
    return request.path.endswith("dataproxy.jsp")


def nav_malformed() -> Case:
    site = tiny_site(1, [20, 20, 20])
    site.bad_nav_hrefs = ["http://[bad/x.html"]
    return Case("nav-malformed-link", "11", "one malformed link (http://[bad/x.html) in the home page's nav bar",
                site, must_archive=_paths(site))


def stale_total() -> Case:
    site = tiny_site(2, [200], api=ListApi(pages=False), per_page=20)
    unit = site.columns[4100].units[0]
    unit.declared_total = 40
    return Case("stale-total", "11", "the column page says totalRecord 40, the jpage endpoint serves 200 (its own "
                "<totalrecord> 200)", site, must_archive=_paths(site))


def side_list_first() -> Case:
    site = tiny_site(3, [100, 5])
    main, side_column = site.columns[4100], site.columns[4101]
    side = side_column.units.pop()
    side_column.kind, side_column.link = "side-only", "none"
    side.role, side.column_id, side.per_page, side.title = "side", 4100, 5, "热点推荐"
    main.units.insert(0, side)
    site.nav = [4100]
    return Case("side-list-first", "11", "a side-list widget (5 records, its own unitid) before the main list of "
                "100 on the same column page", site, must_archive=_paths(site))


def huge_total() -> Case:
    site = tiny_site(4, [45])
    unit = site.columns[4100].units[0]
    unit.declared_total = unit.endpoint_total = 3_000_000
    return Case("huge-total", "11", "totalRecord 3,000,000 on the page and at the endpoint, 45 records, every "
                "later page empty (200)", site, deadline=25, must_archive=_paths(site),
                request_bounds={"list-endpoint requests": (_list_requests, 200)}, max_memory=1_000_000_000)


def depth_limit() -> Case:
    site = tiny_site(5, [30])
    column = site.columns[4100]
    outer, inner = Column(4200, "政务公开", "parent", children=[4201]), Column(4201, "信息公开", "parent", parent=4200)
    inner.children.append(4100)
    column.parent, column.link = 4201, "subnav"
    site.columns.update({4200: outer, 4201: inner})
    site.nav = [4200]
    return Case("depth-limit", "11", "with DEPTH_LIMIT=3 the list column sits at depth 3 (home > 政务公开 > "
                "信息公开 > column): its releases are found at the limit", site, settings={"DEPTH_LIMIT": "3"},
                must_archive=_paths(site))


def long_attachment() -> Case:
    site = tiny_site(6, [10])
    factory = ReleaseFactory(random.Random("hostile-long"), 7)
    long_paths = []
    for release in site.releases[:3]:
        good = factory.attachment("portal", False)
        long = factory.attachment("portal", False)
        long.path = "/module/download/downfile.jsp?classid=0&filename=" + "a1b2c3d4" * 400 + ".pdf"
        long.name = "超长链接附件.pdf"
        release.attachments = [good, long]
        long_paths.append(long.path)
    return Case("long-attachment-url", "11", "an attachment URL of 3,250 characters next to a normal one on 3 "
                "releases", site, must_archive=_paths(site), long_urls=long_paths)


def query_variants() -> Case:
    site = tiny_site(7, [15, 15, 15])
    site.t_variants = True
    return Case("t-variants", "11", "every column page links itself as ?t=<new number> (a cache-buster that changes "
                "on every answer)", site, must_archive=_paths(site),
                request_bounds={"?t= column requests": (lambda r: "t=" in r.target and "/col/" in r.path, 100)})


def retry_after() -> Case:
    site = tiny_site(8, [30])
    delayed = site.releases[5].path
    behaviour = Behaviour(retry_after={delayed: (3600, 1)})
    others = [p for p in _paths(site) if p != delayed]
    return Case("retry-after", "11", "one release page answers 503 with Retry-After: 3600 the first time",
                site, behaviour, deadline=170, must_archive=others, row_or_failure=[delayed], prompt_seconds=30,
                delayed=[delayed])


def cookie_flood() -> Case:
    site = tiny_site(9, [40, 40])
    return Case("cookie-flood", "11", "a new ~130-byte cookie on every answer; request heads over 8 KiB refused "
                "with 400 (nginx)", site, Behaviour(cookie_flood=True, head_limit=8192), must_archive=_paths(site))


def lost_releases() -> Case:
    """Issue 13's lost-release paths, among good releases of one column."""
    site = tiny_site(10, [18])
    bad = {r.path: kind for r, kind in zip(site.releases[::3], ["204", "304", "mailto", "home", "refresh", "soft404"],
                                           strict=True)}

    def answer(kind: str) -> Callable[[Request], tuple[int, list[tuple[str, str]], bytes]]:
        def respond(request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
            html = [("Content-Type", "text/html; charset=UTF-8")]
            return {
                "204": (204, [], b""),
                "304": (304, [("ETag", '"abc"')], b""),
                "mailto": (302, [("Location", "mailto:bangongshi@example.gov.cn")], b""),
                "home": (302, [("Location", "/index.html")], b""),
                "refresh": (200, html, META_REFRESH.encode()),
                "soft404": (200, html, SOFT_404.encode()),
            }[kind]
        return respond

    behaviour = Behaviour(overrides={path: answer(kind) for path, kind in bad.items()})
    good = [p for p in _paths(site) if p not in bad]
    must_fail = [p for p, kind in bad.items() if kind != "refresh"]
    refresh = [p for p, kind in bad.items() if kind == "refresh"]
    case = Case("lost-releases", "13", "release URLs answering 204, an unsolicited 304, a redirect to mailto:, a "
                "redirect to the home page, a meta refresh to javascript:, a 200 页面不存在 page", site, behaviour,
                must_archive=good, must_fail=must_fail, row_or_failure=refresh)
    case.what += " (" + ", ".join(f"{kind}: {path}" for path, kind in bad.items()) + ")"
    return case


def same_article_id() -> Case:
    """Two columns each holding an article with the same id (art_4100_N and art_4101_N), different content."""
    site = tiny_site(11, [12, 12])
    first, second = site.columns[4100].units[0].releases[0], site.columns[4101].units[0].releases[0]
    second.article_id, second.moment = first.article_id, first.moment
    return Case("same-article-id", "11", f"{first.path} and {second.path}: one article id under two columns, "
                "different titles and bodies", site, must_archive=_paths(site), check_fields=True,
                distinct_ids=[first.path, second.path])


def cases() -> list[Case]:
    """Every hostile case, the slow one (Retry-After) first so it overlaps the others."""
    return [retry_after(), nav_malformed(), stale_total(), side_list_first(), huge_total(), depth_limit(),
            long_attachment(), query_variants(), cookie_flood(), lost_releases(), same_article_id()]
