"""crawler export: typed Parquet / CSV / JSONL of real crawls (recurring runs of one portal, and two portals),
--latest, the documented Arrow schema and provenance read back, bad input, and the dataset card of each crawl."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from frictionless import validate

from crawler.export.arrow_schema import COLUMNS, CSV_SCHEMA, METADATA_KEYS, PARQUET_SCHEMA, parquet_schema
from crawler.export.card import README_MARK
from pipelines import EXTRACTOR_VERSION
from tests.support.common import REPO, read_jsonl, run_cli
from tests.support.export_support import Series, recurring_series


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Series]:
    yield recurring_series(tmp_path_factory.mktemp("export"))


def export(*args: str) -> Any:
    return run_cli("export", *args, timeout=300)


def rows_of(out: Path) -> list[dict[str, Any]]:
    return read_jsonl(out / "releases.jsonl")


def test_the_series_has_several_captures_of_changed_releases(series: Series) -> None:
    counts = Counter(row["release_id"] for row in rows_of(series.out))
    assert counts[series.changed[0]] == 3 and counts[series.changed[1]] == 2
    assert (series.out / "events.jsonl").stat().st_size > 0


def test_latest_over_three_recurring_runs_gives_one_row_per_release(series: Series, tmp_path: Path) -> None:
    rows = rows_of(series.out)
    releases = {row["release_id"] for row in rows}
    target = tmp_path / "latest.parquet"
    proc = export(str(series.out), "--latest", "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    assert f"exported {len(releases)} rows" in proc.stdout
    assert f"{len(rows) - len(releases)} older captures left out (--latest)" in proc.stdout
    table = pq.read_table(target)
    assert table.num_rows == len(releases)
    assert sorted(table.column("release_id").to_pylist()) == sorted(releases)
    latest = {row["release_id"]: row for row in rows}  # appended in run order: the last line is the latest capture
    by_id = {r["release_id"]: r for r in table.select(["release_id", "body_text", "fetched_at"]).to_pylist()}
    for release in series.changed:
        assert by_id[release]["body_text"] == latest[release]["body_text"]
        assert by_id[release]["fetched_at"].strftime("%Y-%m-%dT%H:%M:%SZ") == latest[release]["fetched_at"]
    assert "再次作了补充说明" in by_id[series.changed[0]]["body_text"]
    metadata = {k.decode(): v.decode() for k, v in pq.read_schema(target).metadata.items()}
    assert metadata["latest"] == "true" and metadata["rows_dropped"] == str(len(rows) - len(releases))
    everything = tmp_path / "all.parquet"
    assert export(str(series.out), "-o", str(everything)).returncode == 0
    assert pq.read_metadata(everything).num_rows == len(rows)


def test_latest_over_two_portals_keeps_both(series: Series, tmp_path: Path) -> None:
    target = tmp_path / "both.parquet"
    proc = export(str(series.out), str(series.other), "--latest", "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    portals = Counter(pq.read_table(target, columns=["portal"]).column("portal").to_pylist())
    assert portals == {"demo": len({r["release_id"] for r in rows_of(series.out)}),
                       "other": len({r["release_id"] for r in rows_of(series.other)})}
    crawls = json.loads(pq.read_schema(target).metadata[b"crawls"])
    assert [c["portals"] for c in crawls] == [["demo"], ["other"]]
    assert len(crawls[0]["run_ids"]) == 3 and len(crawls[1]["run_ids"]) == 1


def test_parquet_schema_and_metadata_read_back_equal_the_documented_ones(series: Series, tmp_path: Path) -> None:
    target = tmp_path / "releases.parquet"
    assert export(str(series.out), "-o", str(target)).returncode == 0
    schema = pq.read_schema(target)
    metadata = {k.decode(): v.decode() for k, v in schema.metadata.items()}
    assert list(metadata) == [key for key, _ in METADATA_KEYS] + ["pandas"]
    assert schema.equals(parquet_schema(metadata), check_metadata=True)
    assert schema.remove_metadata().equals(PARQUET_SCHEMA.remove_metadata())
    for name, _, _, text in COLUMNS:  # every column carries its meaning
        assert schema.field(name).metadata == {b"description": text.encode()}
    assert str(schema.field("release_datetime").type) == "timestamp[us, tz=Asia/Shanghai]"
    assert metadata["schema_version"] == "2" and metadata["extractor_version"] == EXTRACTOR_VERSION
    assert metadata["software"].startswith("district-portal-archiver ")
    assert json.loads(metadata["extractor_versions"]) == [EXTRACTOR_VERSION]
    assert metadata["rows"] == str(len(rows_of(series.out)))
    report_run = json.loads((series.out / "report.json").read_text("utf-8"))["run_id"]
    assert json.loads(metadata["crawls"])[0]["run_ids"][-1] == report_run
    # docs/loading.md documents the same columns, types and metadata keys
    doc = (REPO / "docs" / "loading.md").read_text("utf-8")
    documented = re.findall(r"^\| `(\w+)` \| `([^`]+)` \| `([^`]+)` \|", doc, re.MULTILINE)
    assert [(n, p) for n, p, _ in documented] == [(f.name, str(f.type)) for f in PARQUET_SCHEMA
                                                 if f.name != "attachments"], documented
    csv_types = {f.name: str(f.type) for f in CSV_SCHEMA}
    for name, _, in_csv in documented:
        assert in_csv == csv_types[name], name
    assert re.findall(r"^\| metadata `(\w+)` \|", doc, re.MULTILINE) == [key for key, _ in METADATA_KEYS]
    struct = PARQUET_SCHEMA.field("attachments").type.value_type
    assert re.findall(r"^\| attachments\.`(\w+)` \| `([^`]+)` \|", doc, re.MULTILINE) == [
        (f.name, str(f.type)) for f in struct]


def test_values_are_typed_and_equal_to_the_rows(series: Series, tmp_path: Path) -> None:
    target = tmp_path / "releases.parquet"
    assert export(str(series.out), "-o", str(target)).returncode == 0
    rows = rows_of(series.out)
    table = pq.read_table(target).to_pylist()
    assert len(table) == len(rows)
    with_attachments = 0
    for row, flat in zip(rows, table, strict=True):
        assert flat["release_id"] == row["release_id"] and flat["hits"] == row["hits"]
        assert (flat["release_date"].isoformat() if flat["release_date"] else None) == row["release_date"]
        assert (flat["release_datetime"].isoformat() if flat["release_datetime"] else None) == row["release_datetime"]
        assert flat["warc_offset"] == row["warc"]["offset"] and flat["charset_used"] == row["charset"]["used"]
        assert flat["attachment_count"] == len(row["attachments"])
        for item, nested in zip(row["attachments"], flat["attachments"], strict=True):
            assert nested["url"] == item["url"] and nested["skip_reason"] == item["skip_reason"]
            assert nested["warc_offset"] == (item["warc"] or {}).get("offset")
        with_attachments += bool(row["attachments"])
    assert with_attachments and any(r["release_datetime"] for r in rows) and any(r["hits"] is None for r in rows)


def test_csv_keeps_the_offset_and_the_attachments_as_json(series: Series, tmp_path: Path) -> None:
    target = tmp_path / "releases.csv"
    assert export(str(series.out), "--format", "csv", "-o", str(target)).returncode == 0
    with target.open(encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    rows = rows_of(series.out)
    assert list(records[0]) == [f.name for f in CSV_SCHEMA]
    assert len(records) == len(rows)
    timed = 0
    for row, record in zip(rows, records, strict=True):
        assert record["release_datetime"] == (row["release_datetime"] or "")
        timed += record["release_datetime"].endswith("+08:00")
        assert record["fetched_at"] == row["fetched_at"]
        assert json.loads(record["attachments_json"]) == row["attachments"]
        assert int(record["attachment_count"]) == len(row["attachments"])
    assert timed


def test_jsonl_export_is_the_rows_as_written(series: Series, tmp_path: Path) -> None:
    target = tmp_path / "latest.jsonl"
    proc = export(str(series.out), str(series.other), "--format", "jsonl", "--latest", "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    lines = set((series.out / "releases.jsonl").read_bytes().splitlines()) | set(
        (series.other / "releases.jsonl").read_bytes().splitlines())
    written = target.read_bytes().splitlines()
    assert set(written) <= lines
    ids = [json.loads(line)["release_id"] for line in written]
    assert len(ids) == len(set(ids))


def test_no_column_is_a_reserved_word() -> None:
    reserved = {name for (name,) in duckdb.sql(
        "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category = 'reserved'").fetchall()}
    names = {f.name for f in PARQUET_SCHEMA} | {f.name for f in CSV_SCHEMA}
    names |= {f.name for f in PARQUET_SCHEMA.field("attachments").type.value_type}
    assert not names & reserved
    assert "column" in reserved  # the check can fail


@pytest.mark.parametrize("case", ["missing", "not_a_crawl", "format", "unwritable", "v1", "torn"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(series: Series, tmp_path: Path, case: str) -> None:
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    source, fmt, target = str(series.out), "parquet", target_dir / "x.parquet"
    if case == "missing":
        source = str(tmp_path / "nowhere")
    elif case == "not_a_crawl":
        source = str(tmp_path)
    elif case == "format":
        fmt = "xlsx"
    elif case == "unwritable":
        (tmp_path / "a-file").write_text("")
        target = tmp_path / "a-file" / "x.parquet"
    elif case == "v1":
        source = str(REPO / "tests" / "data" / "v1_crawl")
    elif case == "torn":
        torn = tmp_path / "torn"
        torn.mkdir()
        (torn / "releases.jsonl").write_bytes((series.out / "releases.jsonl").read_bytes()[:-20])
        source = str(torn)
    proc = export(source, "--format", fmt, "-o", str(target))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crawler export: error: "), proc.stderr
    assert "expected" in lines[0]
    assert list(target_dir.iterdir()) == []
    if case == "unwritable":
        assert str(target) in lines[0]
    elif case != "format":
        assert Path(source).name in lines[0]


def test_every_crawl_writes_a_valid_dataset_card(series: Series) -> None:
    for out in (series.out, series.other):
        package = json.loads((out / "datapackage.json").read_text("utf-8"))
        report = validate(str(out / "datapackage.json"))  # the descriptor and the data against its table schemas
        assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
        names = [resource["name"] for resource in package["resources"]]
        assert names[0] == "releases" and "report" in names
        assert package["crawler"]["counts"]["rows"] == len(rows_of(out))
        readme = (out / "README.md").read_text("utf-8")
        assert readme.startswith(README_MARK) and f"| `releases.jsonl` | {len(rows_of(out))} |" in readme
        assert "## How to cite" in readme and package["crawler"]["citation"] in readme
    demo = json.loads((series.out / "datapackage.json").read_text("utf-8"))
    assert len(demo["crawler"]["run_ids"]) == 3 and "events" in [r["name"] for r in demo["resources"]]
    other = json.loads((series.other / "datapackage.json").read_text("utf-8"))
    assert other["licenses"] == [{"name": "CC-BY-4.0", "title": "CC-BY-4.0"}]
    assert "CC BY 4.0; cite the portal" in (series.other / "README.md").read_text("utf-8")


def test_export_card_on_demand_keeps_the_terms_and_leaves_a_foreign_readme(series: Series, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    out.mkdir()
    for name in ("releases.jsonl", "failures.jsonl", "report.json", "datapackage.json"):
        (out / name).write_bytes((series.other / name).read_bytes())
    (out / "README.md").write_text("# my notes\n", encoding="utf-8")
    proc = export(str(out), "--card")
    assert proc.returncode == 0, proc.stderr
    assert (out / "README.md").read_text("utf-8") == "# my notes\n"
    package = json.loads((out / "datapackage.json").read_text("utf-8"))
    assert package["crawler"]["terms"] == "CC BY 4.0; cite the portal" and package["licenses"][0]["name"] == "CC-BY-4.0"
    assert export(str(out), "--card", "--terms", "for research only").returncode == 0
    assert json.loads((out / "datapackage.json").read_text("utf-8"))["crawler"]["terms"] == "for research only"


def _doc_section(name: str) -> str:
    doc = (REPO / "docs" / "schema.md").read_text("utf-8")
    return doc.split(f"<!-- {name}:begin -->")[1].split(f"<!-- {name}:end -->")[0]


def test_schema_doc_example_row_is_a_real_row_that_validates(series: Series) -> None:
    from pipelines.validate import release_validator

    example = json.loads(_doc_section("example-row").split("```json")[1].split("```")[0])
    assert not list(release_validator().iter_errors(example))
    first = next(row for row in rows_of(series.out) if row["release_id"] == example["release_id"])
    base = re.match(r"http://127\.0\.0\.1:\d+", first["url"])
    assert base is not None
    real = json.loads(json.dumps(first, ensure_ascii=False).replace(base.group(0), "http://127.0.0.1:8000"))
    for row in (real, example):  # what names the crawl's own files and time
        row.pop("fetched_at"), row.pop("warc")
        for item in row["attachments"]:
            item.pop("warc")
    assert real == example


def test_schema_doc_dictionaries_name_every_field(series: Series) -> None:
    from crawler.export.card import FAILURE_FIELDS
    from crawler.report.build import load_schema

    failure_fields = re.findall(r"^\| `(\w+)` \|", _doc_section("failure-fields"), re.MULTILINE)
    assert failure_fields == [name for name, _, _ in FAILURE_FIELDS]
    failures = read_jsonl(series.out / "failures.jsonl")
    assert failures and all(list(row) == failure_fields for row in failures)
    report_keys = [key for cell in re.findall(r"^\| ((?:`\w+`(?:, )?)+) \|", _doc_section("report-keys"), re.MULTILINE)
                   for key in re.findall(r"`(\w+)`", cell)]
    assert report_keys == load_schema()["required"]
