"""The deterministic model of the simulated Hanweb portal: columns, releases generated on demand, and truth.

Release *i* belongs to column ``i % len(COLUMNS)`` and is generated from ``random.Random(f"{seed}:{i}")``;
nothing per release is held in memory. Release 0 is the seed release (the English page the project
started from).
Within a column, releases are listed newest first, i.e. by descending *i* (dates grow with *i*).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator import prose
from simulator.list_variants import ListVariant, draw_list_variant
from simulator.mutations import MutationFile, Mutations
from simulator.page_variants import DateTruth, PageVariant, draw_page, draw_template
from simulator.variation import Variation, variation_of

PORTAL = "demo"
SITE_NAME = "杭州市滨江区人民政府"
SITE_NAME_EN = "Binjiang District, Hangzhou"
PER_PAGE = 15
GROUP_SIZE = 3
AID_BASE = 2410000
SEED_INDEX = 0
NEW_PROXY = "/module/web/jpage/dataproxy.jsp"
OLD_PROXY = "/module/jpage/dataproxy.jsp"
FIRST_DAY = dt.date(2014, 1, 1)
LAST_DAY = dt.date(2024, 12, 31)
GBK_ONLY_CHARS = "镕堃喆"
#: Attachments under this path are served by the asset host (the provincial object store of Zhejiang portals);
#: the rest through the CMS's download endpoint on the portal host.
ASSET_ATTACH_PREFIX = "/jcms_files/jcms1/web1/site/attach/0/"
DOWNFILE_PREFIX = "/module/download/downfile.jsp?classid=0&filename="
#: Forms linked from many releases (one file each, fetched once by a good crawler).
SHARED_ATTACHMENTS = ("政府信息公开申请表", "行政许可申请书", "投诉举报登记表")
SHARED_EVERY = 6

DATE_FORMS = ("ymd_hms", "ymd_hm", "ymd", "cn", "slash")
CHARSETS = ("utf-8", "gbk-as-gb2312", "gbk-meta-only")
TRANSPORTS = ("plain", "gzip", "chunked")
MARKER_VARIANTS = ("upper", "quoted", "lower")


@dataclass(frozen=True)
class Column:
    """One list column (栏目) with its jpage widget."""

    cid: int
    name: str
    language: str  # "en" | "zh"
    style: str  # "get" (page=N) | "post" (startrecord/endrecord)
    proxy: str
    unitid: int
    link: str  # how the home page links it: "a" | "iframe" | "redirect"

    @property
    def path(self) -> str:
        return f"/col/col{self.cid}/index.html"


COLUMNS: tuple[Column, ...] = (
    Column(1487419, "News", "en", "get", NEW_PROXY, 4453081, "a"),
    Column(1229001, "政务动态", "zh", "get", NEW_PROXY, 4453082, "a"),
    Column(1229002, "通知公告", "zh", "post", NEW_PROXY, 4453083, "a"),
    Column(1229003, "部门动态", "zh", "get", OLD_PROXY, 4453084, "iframe"),
    Column(1487420, "Investment", "en", "post", NEW_PROXY, 4453085, "a"),
    Column(1229004, "政策文件", "zh", "post", NEW_PROXY, 4453086, "redirect"),
    Column(1229005, "街道动态", "zh", "get", NEW_PROXY, 4453087, "a"),
)
COLUMNS_BY_ID = {c.cid: c for c in COLUMNS}


@dataclass(frozen=True)
class Release:
    """Everything needed to render one release page and to state its truth."""

    index: int
    release_id: str
    column: Column
    article_id: int
    path: str
    title: str
    when: dt.datetime
    date_form: str  # one of DATE_FORMS; English pages always "ymd_hms"
    date_text: str  # the date exactly as printed
    hits: int | None
    hits_text: str  # as printed after 浏览次数： ("" when empty); "" for English (scripted)
    source: str | None
    index_no: str | None
    doc_no: str | None
    paragraphs: tuple[str, ...]
    language: str
    charset: str  # one of CHARSETS
    transport: str  # one of TRANSPORTS
    attachments: tuple[tuple[str, str], ...]  # (root-relative url, name)
    end_marker: bool
    marker_variant: str  # one of MARKER_VARIANTS
    # template variation
    title_style: str  # "plain" | "site-column-title"
    pubdate_meta: bool
    articletitle_meta: bool
    list_absolute: bool  # list record href carries the host
    indent: str  # "ideographic" | "nbsp" | "none"
    image: bool
    maketime: dt.datetime
    #: page-side variation (``--vary``; ``simulator/page_variants.py``); None renders the classic templates
    page: PageVariant | None = None

    @property
    def dates(self) -> DateTruth:
        """What a correct extractor reads as the release's date, datetime (RFC 3339, seconds), precision, source."""
        if self.page is not None:
            return self.page.date_truth(self.when, self.maketime)
        date = self.when.strftime("%Y-%m-%d")
        if self.date_form == "ymd_hms":
            return DateTruth(date, self.when.strftime("%Y-%m-%dT%H:%M:%S+08:00"), "second", "labelled_text")
        if self.date_form == "ymd_hm":
            return DateTruth(date, self.when.strftime("%Y-%m-%dT%H:%M:00+08:00"), "minute", "labelled_text")
        return DateTruth(date, None, None, "labelled_text")

    @property
    def release_date(self) -> str:
        return self.when.strftime("%Y-%m-%d")

    @property
    def release_datetime(self) -> str | None:
        return self.dates.datetime

    @property
    def charset_used(self) -> str:
        charset = self.page.charset if self.page is not None else self.charset
        return "utf-8" if charset.startswith("utf-8") else "gb18030"

    @property
    def true_hits(self) -> int | None:
        """The count a reader may take from the page."""
        return self.page.hits if self.page is not None else self.hits

    @property
    def true_source(self) -> str | None:
        if self.page is not None and not self.page.show_source:
            return None
        return self.source

    @property
    def body_text(self) -> str:
        return "\n\n".join(" ".join(p.split()) for p in self.paragraphs)


def _load_seed() -> tuple[str, str, tuple[str, ...]]:
    text = (Path(__file__).parent / "data" / "seed_release.txt").read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    title, date_line = blocks[0].split("\n")
    date = date_line.removeprefix("ReleaseDate: ").removesuffix(" ArticleHits:")
    paragraphs = tuple(b.strip() for b in blocks[1:] if b.strip() and not b.startswith("Produced By"))
    return title, date, paragraphs


SEED_TITLE, SEED_DATE, SEED_PARAGRAPHS = _load_seed()


def format_date(when: dt.datetime, form: str) -> str:
    """The date as a page prints it in the given form."""
    if form == "ymd_hms":
        return when.strftime("%Y-%m-%d %H:%M:%S")
    if form == "ymd_hm":
        return when.strftime("%Y-%m-%d %H:%M")
    if form == "ymd":
        return when.strftime("%Y-%m-%d")
    if form == "cn":
        return f"{when.year}年{when.month}月{when.day}日"
    if form == "slash":
        return f"{when.year}/{when.month}/{when.day}"
    raise ValueError(form)


def attachment_filename(seed: int, index: int, k: int, ext: str) -> str:
    """The 32-hex stored file name of attachment k of release `index`."""
    return hashlib.md5(f"{seed}:{index}:{k}".encode()).hexdigest() + "." + ext


def is_asset_path(path: str) -> bool:
    """True for the paths only the asset host serves."""
    return path.startswith("/jcms_files/")


_ART_PATH = re.compile(r"^/art/(\d{4})/(\d{1,2})/(\d{1,2})/art_(\d+)_(\d+)\.html$")


class SimulatedPortal:
    """A portal of `releases` releases; every release is regenerated on demand from `seed` and its index."""

    def __init__(self, releases: int, seed: int = 0, mutations_file: str | None = None,
                 vary: int | None = None) -> None:
        if releases < 0:
            raise ValueError("releases must be >= 0")
        self.base_releases = releases
        self.seed = seed
        #: Template variation (``simulator/variation.py``); None serves the classic portal.
        self.variation: Variation | None = variation_of(vary)
        self.columns = COLUMNS
        self._span_days = (LAST_DAY - FIRST_DAY).days
        #: Changes between crawl runs (docs/simulator.md, "Recurring crawls"); `refresh()` re-reads the file.
        self.mutation_file = MutationFile(mutations_file) if mutations_file else None
        self.mutations = self.mutation_file.load() if self.mutation_file else Mutations()

    # -- recurring-crawl mutations ---------------------------------------------------------------------------

    @property
    def releases(self) -> int:
        """How many releases exist (the generated ones plus those a mutation file added)."""
        return self.base_releases + self.mutations.add

    def refresh(self) -> None:
        """Re-read the mutation file if it changed (the server calls this once per request)."""
        if self.mutation_file is not None:
            self.mutations = self.mutation_file.load()

    def is_deleted(self, article_id: int) -> bool:
        return article_id in self.mutations.delete

    def _mutated(self, release: Release) -> Release:
        """Apply the hit-count epoch and a body change to a generated release."""
        m = self.mutations
        changes: dict[str, Any] = {}
        if m.epoch and release.language == "zh" and release.hits is not None:
            hits = release.hits + m.epoch * (1 + release.index % 5)
            changes.update(hits=hits, hits_text=f"{hits:,}" if "," in release.hits_text else str(hits))
            if release.page is not None and release.page.hits_value is not None:
                changes["page"] = dataclasses.replace(release.page, hits_value=release.page.hits_value + hits
                                                      - release.hits)
        if release.article_id in m.change:
            changes.update(paragraphs=(*release.paragraphs, m.change[release.article_id]),
                           maketime=release.maketime + dt.timedelta(days=1))
        return dataclasses.replace(release, **changes) if changes else release

    def last_modified(self, release: Release) -> dt.datetime:
        """The page's Last-Modified (UTC): its make time, later by an hour per epoch when it prints hits."""
        moved = self.mutations.epoch if release.language == "zh" and release.hits is not None else 0
        return (release.maketime - dt.timedelta(hours=8) + dt.timedelta(hours=moved)).replace(tzinfo=dt.UTC)

    # -- columns and listing -------------------------------------------------------------------------------

    def list_variant(self, column: Column) -> ListVariant | None:
        """The column's list-side variant (``--vary``; ``simulator/list_variants.py``), None on the classic portal."""
        if self.variation is None:
            return None
        return draw_list_variant(self.variation.rng("lists", column.cid), len(COLUMNS))

    def column_of(self, index: int) -> Column:
        return COLUMNS[index % len(COLUMNS)]

    def column_total(self, column: Column) -> int:
        """How many releases the column holds."""
        c = COLUMNS.index(column)
        n = len(COLUMNS)
        total = 0 if c >= self.releases else (self.releases - c + n - 1) // n
        if self.mutations.delete:
            total -= sum(1 for aid in self.mutations.delete if 0 <= aid - AID_BASE < self.releases
                         and (aid - AID_BASE) % n == c)
        return total

    def column_indices(self, column: Column, start: int, stop: int) -> list[int]:
        """Release indices at list positions [start, stop) (0-based, newest first), clipped to the column."""
        c = COLUMNS.index(column)
        n = len(COLUMNS)
        if self.mutations.delete:
            listed = [i for i in range(c, self.releases, n)[::-1] if AID_BASE + i not in self.mutations.delete]
            return listed[max(start, 0):max(stop, 0)]
        total = self.column_total(column)
        return [c + (total - 1 - k) * n for k in range(max(start, 0), min(stop, total))]

    # -- releases ------------------------------------------------------------------------------------------

    def _when(self, index: int, rng: random.Random) -> dt.datetime:
        if index == SEED_INDEX:
            return dt.datetime.strptime(SEED_DATE, "%Y-%m-%d %H:%M:%S")
        if index >= self.base_releases:  # added by a mutation: newer than every generated release
            day = LAST_DAY + dt.timedelta(days=index - self.base_releases + 1)
        else:
            day = FIRST_DAY + dt.timedelta(days=index * self._span_days // max(self.base_releases, 1))
        return dt.datetime(
            day.year, day.month, day.day, rng.randint(8, 18), rng.randrange(60), rng.randrange(60)
        )

    def release(self, index: int) -> Release:
        """Release `index` (0 <= index < releases), generated deterministically."""
        if not 0 <= index < self.releases:
            raise IndexError(index)
        rng = random.Random(f"{self.seed}:{index}")
        column = self.column_of(index)
        aid = AID_BASE + index
        when = self._when(index, rng)
        path = f"/art/{when.year}/{when.month}/{when.day}/art_{column.cid}_{aid}.html"
        seed_page = index == SEED_INDEX
        if column.language == "en":
            date_form = "ymd_hms"
            title = SEED_TITLE if seed_page else prose.en_title(rng)
            paragraphs = (
                SEED_PARAGRAPHS
                if seed_page
                else tuple(prose.en_paragraphs(rng, rng.randint(3, 6), when.month))
            )
            hits, hits_text, source, index_no, doc_no = None, "", None, None, None
            charset = "utf-8"
            attachments: tuple[tuple[str, str], ...] = ()
        else:
            date_form = rng.choices(DATE_FORMS, weights=(35, 20, 20, 15, 10))[0]
            charset = rng.choices(CHARSETS, weights=(60, 25, 15))[0]
            title = prose.zh_title(rng, when.year)
            paragraphs = tuple(
                prose.zh_paragraphs(rng, rng.randint(3, 8), when.month, when.day, gbk_only=charset != "utf-8")
            )
            hits, hits_text = self._hits(rng)
            source = rng.choice(prose.ORGS_ZH)
            if rng.random() < 1 / 3:
                index_no = f"002482510/{when.year}-{rng.randint(1, 99999):05d}"
                doc_no = f"滨政办发〔{when.year}〕{rng.randint(1, 120)}号"
            else:
                index_no = doc_no = None
            attachments = self._attachments(rng, index)
        transport = "plain" if seed_page else rng.choices(TRANSPORTS, weights=(50, 25, 25))[0]
        end_marker = seed_page or rng.random() < 0.85
        marker_variant = "upper" if seed_page else rng.choice(MARKER_VARIANTS)
        return self._mutated(self._with_page(Release(
            index=index,
            release_id=f"{PORTAL}:{column.cid}_{aid}",
            column=column,
            article_id=aid,
            path=path,
            title=title,
            when=when,
            date_form=date_form,
            date_text=format_date(when, date_form),
            hits=hits,
            hits_text=hits_text,
            source=source,
            index_no=index_no,
            doc_no=doc_no,
            paragraphs=paragraphs,
            language=column.language,
            charset=charset,
            transport=transport,
            attachments=attachments,
            end_marker=end_marker,
            marker_variant=marker_variant,
            title_style="plain" if seed_page else rng.choice(("plain", "site-column-title")),
            pubdate_meta=not seed_page and rng.random() < 0.5,
            articletitle_meta=seed_page or rng.random() < 0.6,
            list_absolute=rng.random() < 0.2,
            indent="none" if column.language == "en" else rng.choice(("ideographic", "nbsp")),
            image=column.language == "zh" and rng.random() < 0.2,
            maketime=when + dt.timedelta(days=rng.randint(3, 900), seconds=rng.randrange(86400)),
        ), seed_page))

    def _with_page(self, release: Release, seed_page: bool) -> Release:
        """The release with its page-side variant (``--vary``); the seed page and the classic portal keep theirs."""
        if self.variation is None or seed_page:
            return release
        template = draw_template(self.variation.rng("page-template", release.column.cid), release.language)
        page = draw_page(template, self.variation.rng("page", release.index), release.language, release.charset,
                         release.hits)
        if release.index_no:  # the 信息公开 table names the source (发布机构) whatever the info line shows
            page = dataclasses.replace(page, show_source=True)
        return dataclasses.replace(release, page=page, articletitle_meta=release.articletitle_meta
                                   or page.title_markup == "meta-escaped")

    @staticmethod
    def _hits(rng: random.Random) -> tuple[int | None, str]:
        if rng.random() < 0.1:
            return None, ""
        hits = int(rng.paretovariate(1.2) * 40)
        if hits >= 1000 and rng.random() < 0.5:
            return hits, f"{hits:,}"
        return hits, str(hits)

    def _attachments(self, rng: random.Random, index: int) -> tuple[tuple[str, str], ...]:
        out = []
        if rng.random() < 0.25:
            for k in range(rng.randint(1, 2)):
                ext = rng.choice(("pdf", "pdf", "doc", "xls"))
                name = f"附件{k + 1}：{rng.choice(prose.TOPICS_ZH).strip('“”')}工作方案.{ext}"
                filename = attachment_filename(self.seed, index, k, ext)
                # decided from the file name, not the generator, so the rest of the release stays as it was
                on_asset_host = int(filename[0], 16) < 6
                out.append(((ASSET_ATTACH_PREFIX if on_asset_host else DOWNFILE_PREFIX) + filename, name))
        if index % SHARED_EVERY == 0:
            k = index // SHARED_EVERY % len(SHARED_ATTACHMENTS)
            filename = hashlib.md5(f"{self.seed}:shared:{k}".encode()).hexdigest() + ".doc"
            out.append((DOWNFILE_PREFIX + filename, f"附件：{SHARED_ATTACHMENTS[k]}.doc"))
        return tuple(out)

    def find(self, path: str) -> Release | None:
        """The release served at `path`, or None (unknown id, wrong column, or a mismatched date path)."""
        m = _ART_PATH.match(path)
        if not m:
            return None
        index = int(m.group(5)) - AID_BASE
        if not 0 <= index < self.releases or self.is_deleted(AID_BASE + index):
            return None
        release = self.release(index)
        return release if release.path == path else None

    # -- truth ---------------------------------------------------------------------------------------------

    def truth(self, index: int, base_url: str = "http://127.0.0.1:8000", asset_base_url: str | None = None,
              ) -> dict[str, Any]:
        """The true fields of release `index` (see docs/simulator.md); asset-host files under `asset_base_url`."""
        r = self.release(index)
        base = base_url.rstrip("/")
        asset_base = (asset_base_url or base_url).rstrip("/")
        return {
            "release_id": r.release_id,
            "url": base + r.path,
            "column": {"id": str(r.column.cid), "name": r.column.name},
            "title": " ".join(r.title.split()),
            "release_date": r.dates.date,
            "release_datetime": r.dates.datetime,
            "release_time_precision": r.dates.precision,
            "release_source": r.dates.source,
            "hits": r.true_hits,
            "source": r.true_source,
            "index_no": r.index_no,
            "doc_no": r.doc_no,
            "body_text": r.body_text,
            "language": r.language,
            "charset_used": r.charset_used,
            "attachments": [{"url": (asset_base if is_asset_path(url) else base) + url, "name": name}
                            for url, name in r.attachments],
        }

    def iter_truth(self, base_url: str = "http://127.0.0.1:8000", asset_base_url: str | None = None
                   ) -> Iterator[dict[str, Any]]:
        """Truth for every release, one at a time (a generator: nothing accumulates)."""
        for index in range(self.releases):
            yield self.truth(index, base_url, asset_base_url)
