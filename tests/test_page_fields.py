"""Every field of release pages the extractor was not written against, offline (no crawl): the held-out portals'
templates (tests/support/heldout, written without reading the extractor) and the simulator's page variation seeds.

The crawls of the same portals (tests/test_heldout_portals.py, tests/test_variation_seeds.py) also need the list
walking to find every page; here each page is rendered by its generator and extracted as ``crawler extract`` does,
so a wrong field is the extractor's alone, on every page of every seed.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path
from typing import Any

import pytest

from crawler.offline.extract import extract_page
from pipelines.validate import row_problem
from simulator import templates
from simulator.portal import SimulatedPortal
from simulator.server import encode_release, release_content_type
from tests.support.heldout import render_article
from tests.support.heldout.compare import field_errors
from tests.support.heldout.generate import draw_site
from tests.support.truth import ALL_FIELDS, row_value
from tests.test_heldout_portals import SEEDS as HELDOUT_SEEDS
from tests.test_variation_seeds import _seeds

HELDOUT_BASES = {"portal": "http://127.0.0.20:8000", "asset": "http://127.0.0.21:8000"}
VARY_SEEDS = _seeds("1-30")
VARY_RELEASES = 90
VARY_BASE = "http://127.0.0.1:8000"


def _report(wrong: dict[tuple[str, str], list[str]]) -> str:
    return "\n".join(f"{len(cases)} x {field} [{template}] e.g. {cases[0]}"
                     for (field, template), cases in sorted(wrong.items(), key=lambda kv: -len(kv[1])))


def heldout_rows(seed: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(truth, extracted row) of every release page of a held-out seed, served bytes and Content-Type as the
    held-out server sends them."""
    site = draw_site(seed)
    out = []
    for release in site.releases:
        content_type = "text/html"
        if release.style.charset_in_header:
            content_type += "; charset=" + ("GBK" if release.style.charset == "gbk" else "UTF-8")
        truth = release.truth(HELDOUT_BASES)
        row = extract_page(render_article.render(release, site, HELDOUT_BASES), truth["url"], portal="heldout",
                           content_type=content_type)
        out.append((truth, row))
    return out


@pytest.mark.parametrize("seed", HELDOUT_SEEDS)
def test_heldout_pages_every_field_exact(seed: int) -> None:
    wrong: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for truth, row in heldout_rows(seed):
        assert row_problem(row) is None, (truth["url"], row_problem(row))
        for field, (want, got) in field_errors(truth, row).items():
            if field != "attachments_archived":  # nothing is fetched offline
                template = "/".join(str(v) for v in truth["template"].values())
                wrong[(field, template)].append(f"{truth['url']}: want {want!r}, got {got!r}")
    assert not wrong, f"held-out seed {seed}:\n{_report(wrong)}"


def vary_rows(seed: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(truth, extracted row) of every release page of simulator variation seed ``seed``."""
    portal = SimulatedPortal(VARY_RELEASES, seed=seed, vary=seed)
    names = {str(column.cid): column.name for column in portal.columns}
    out = []
    for index in range(portal.releases):
        release = portal.release(index)
        body = encode_release(release, templates.release_page(portal, release, VARY_BASE.split("/")[2]))
        truth = portal.truth(index, VARY_BASE)
        out.append((truth, extract_page(body, truth["url"], content_type=release_content_type(release),
                                        column_names=names)))
    return out


@pytest.mark.parametrize("seed", VARY_SEEDS)
def test_variation_seed_pages_every_field_exact(seed: int) -> None:
    wrong: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for truth, row in vary_rows(seed):
        assert row_problem(row) is None, (truth["url"], row_problem(row))
        for field in ALL_FIELDS:
            if row_value(row, field) != truth[field]:
                wrong[(field, truth["release_source"])].append(
                    f"{truth['url']}: want {truth[field]!r}, got {row_value(row, field)!r}")
    assert not wrong, f"variation seed {seed}:\n{_report(wrong)}"


def test_variation_seeds_draw_the_whole_page_space() -> None:
    """The seeds of the suite together draw every date source, label kind, precision, PubDate mode, count markup,
    title markup and block, and charset variant (so a passing suite covers them all)."""
    from simulator import page_variants as pv

    pages = [SimulatedPortal(VARY_RELEASES, seed=seed, vary=seed).release(index).page
             for seed in VARY_SEEDS for index in range(1, VARY_RELEASES)]
    drawn = [page for page in pages if page is not None]
    templates_drawn = {page.template for page in drawn}
    space = {
        "date label": ({t.date_label for t in templates_drawn}, {*pv.ZH_DATE_LABELS, *pv.EN_DATE_LABELS, ""}),
        "precision": ({t.precision for t in templates_drawn}, set(pv.PRECISIONS)),
        "form": ({t.date_form for t in templates_drawn}, set(pv.DATE_FORMS)),
        "utc visible": ({t.utc_visible for t in templates_drawn}, {None, "Z", "+00:00"}),
        "pubdate": ({t.pubdate for t in templates_drawn}, set(pv.PUBDATE_MODES)),
        "hits": ({t.hits_markup for t in templates_drawn}, set(pv.HITS_MARKUP)),
        "hits first": ({t.hits_first for t in templates_drawn}, {True, False}),
        "label split": ({t.label_split for t in templates_drawn}, {True, False}),
        "source markup": ({t.source_markup for t in templates_drawn}, {"plain", "link", "comment"}),
        "title markup": ({p.title_markup for p in drawn}, set(pv.TITLE_MARKUP)),
        "title block": ({t.title_block for t in templates_drawn}, set(pv.TITLE_BLOCKS)),
        "title tag": ({t.title_tag for t in templates_drawn}, set(pv.TITLE_TAGS)),
        "charset": ({p.charset for p in drawn}, {c for family in pv.CHARSET_FAMILIES.values() for c in family}),
    }
    gaps = {name: want - got for name, (got, want) in space.items() if want - got}
    assert not gaps, f"the variation seeds no longer draw: {gaps}"
    sources = {SimulatedPortal(VARY_RELEASES, seed=seed, vary=seed).truth(i)["release_source"]
               for seed in VARY_SEEDS[:10] for i in range(VARY_RELEASES)}
    assert sources == {"labelled_text", "bare_text", "text_and_meta_time", "meta_pubdate", "url_path"}


def test_the_classic_portal_has_no_page_variation() -> None:
    portal = SimulatedPortal(40, seed=3)
    assert all(portal.release(index).page is None for index in range(40))
    assert SimulatedPortal(40, seed=3, vary=3).release(0).page is None  # the seed page stays as it was served


def test_readers_parse_the_datetimes_with_no_options(tmp_path: Path) -> None:
    """pandas and polars read ``release_datetime`` (every precision and source) and ``fetched_at`` as timestamps
    with no options: the reason schema 2 writes seconds always."""
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    rows = [row for seed in (5, 14, 20) for _, row in vary_rows(seed)]
    rows[0]["fetched_at"], rows[1]["fetched_at"] = "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"
    assert {row["release_time_precision"] for row in rows} == {"second", "minute", None}
    path = tmp_path / "releases.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    frame = pd.read_json(path, lines=True, dtype={"hits": "Int64"})
    stamps = pd.to_datetime(frame["release_datetime"])
    assert str(stamps.dtype) == "datetime64[us, UTC+08:00]"
    assert stamps.notna().sum() == sum(row["release_datetime"] is not None for row in rows)
    assert str(pd.to_datetime(frame["release_date"]).dtype).startswith("datetime64")
    assert str(pd.to_datetime(frame["fetched_at"].dropna()).dtype).endswith("UTC]")
    table = pl.read_ndjson(path, infer_schema_length=None)
    parsed = table["release_datetime"].str.to_datetime()  # a Series: polars takes the offset from the data
    assert str(parsed.dtype) == "Datetime(time_unit='us', time_zone='UTC')"
    assert parsed.null_count() == sum(row["release_datetime"] is None for row in rows)
    first = next(row for row in rows if row["release_datetime"])
    assert parsed.drop_nulls()[0] == pd.Timestamp(first["release_datetime"]).tz_convert("UTC").to_pydatetime()
    assert table["fetched_at"].str.to_datetime().null_count() == sum(row["fetched_at"] is None for row in rows)
