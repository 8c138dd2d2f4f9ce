"""docs/loading.md cannot drift from the data: every Python and SQL block in it runs against a real crawl's output
(two recurring runs of the simulated portal) and the exports its ``sh`` block makes, and what each block promises
(dates as dates, time-zone-aware datetimes, nullable integer hits, the same row count) is checked here.

polars must read the JSON Lines in any row order: the blocks run once more on the rows reordered so that the
script-drawn (null) hit counts come first, where polars' default inference (the first 100 rows) fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pytest

from tests.support.common import BIN, REPO, read_jsonl
from tests.support.export_support import Series, recurring_series

DOC = REPO / "docs" / "loading.md"
BLOCK = re.compile(r"<!-- (check|run): (\w+) -->\n```(\w+)\n(.*?)```", re.DOTALL)


def blocks(kind: str) -> list[tuple[str, str]]:
    """(tag, code) of the doc's blocks in language *kind*."""
    return [(tag, code) for _, tag, lang, code in BLOCK.findall(DOC.read_text("utf-8")) if lang == kind]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Series]:
    yield recurring_series(tmp_path_factory.mktemp("loading"), runs=2, releases=400, other=False)


@pytest.fixture(scope="module")
def workdir(crawl: Series, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the crawl's JSON Lines and the exports of the doc's sh block (run as written, with the
    crawl's directory for output/demo)."""
    work = tmp_path_factory.mktemp("work")
    for name in ("releases.jsonl", "events.jsonl"):
        (work / name).write_bytes((crawl.out / name).read_bytes())
    (_, code), = blocks("sh")
    for line in code.splitlines():
        args = shlex.split(line.split("#")[0])
        if "output/binjiang" in args:  # a second portal: not crawled here (tests/test_export.py does)
            continue
        args = [str(crawl.out) if arg == "output/demo" else arg for arg in args]
        assert args[0] == "crawler"
        proc = subprocess.run([str(BIN / "crawler"), *args[1:]], capture_output=True, text=True, timeout=300,
                              cwd=work)
        assert proc.returncode == 0, proc.stderr
    return work


def run_block(code: str, where: Path) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    here = Path.cwd()
    os.chdir(where)
    try:
        exec(compile(code, str(DOC), "exec"), namespace)
    finally:
        os.chdir(here)
    return namespace


def check_pandas_jsonl(ns: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    df = ns["df"]
    assert len(df) == len(rows)
    assert str(df["hits"].dtype) == "Int64" and df["hits"].isna().any()
    assert all(isinstance(v, dt.date) for v in df["release_date"].dropna())
    assert str(df["release_datetime"].dtype) == "datetime64[us, UTC+08:00]"
    assert str(df["fetched_at"].dtype) == "datetime64[us, UTC]"
    assert len(ns["latest"]) == len({r["release_id"] for r in rows}) < len(rows)
    assert len(ns["attachments"]) == sum(len(r["attachments"]) for r in rows) > 0


def check_pandas_parquet(ns: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    df = ns["df"]
    assert len(df) == len(rows) and str(df["hits"].dtype) == "Int64"
    assert str(df["release_datetime"].dtype) == "datetime64[us, Asia/Shanghai]"
    assert all(isinstance(v, dt.date) for v in df["release_date"].dropna())
    first = next(r for r in rows if r["release_datetime"])
    value = df.loc[df["url"] == first["url"], "release_datetime"].iloc[0]
    assert value.isoformat() == first["release_datetime"]
    assert len(ns["latest"]) == len({r["release_id"] for r in rows})
    assert str(ns["csv"]["release_datetime"].dtype) == "datetime64[us, UTC+08:00]"


def check_pandas_hits(ns: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    series = ns["series"]
    events = [e for e in read_jsonl(Path(ns["__cwd__"]) / "events.jsonl") if e["event"] == "hits_changed"]
    assert events and len(series) == len(rows) + len({e["event_id"] for e in events})
    assert str(series["hits"].dtype) == "Int64"


def check_polars_jsonl(ns: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    df = ns["df"]
    assert df.height == len(rows)
    assert df.schema["hits"] == pl.Int64 and df.schema["release_date"] == pl.Date
    assert df.schema["release_datetime"] == pl.Datetime("us", "Asia/Shanghai")
    assert df["hits"].null_count() > 0
    assert ns["latest"].height == len({r["release_id"] for r in rows})
    assert ns["attachments"].height >= sum(len(r["attachments"]) for r in rows) > 0


def check_polars_parquet(ns: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    df = ns["df"]
    assert df.height == len(rows) and df.schema["hits"] == pl.Int64 and df.schema["release_date"] == pl.Date
    assert df.schema["release_datetime"] == pl.Datetime("us", "Asia/Shanghai")
    assert ns["latest"].height == len({r["release_id"] for r in rows})


def check_pyarrow(ns: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    assert ns["table"].num_rows == len(rows) and ns["crawls"][0]["portals"] == ["demo"]
    assert len(ns["crawls"][0]["run_ids"]) == 2


CHECKS: dict[str, Callable[[dict[str, Any], list[dict[str, Any]]], None]] = {
    "pandas_jsonl": check_pandas_jsonl, "pandas_parquet": check_pandas_parquet, "pandas_hits": check_pandas_hits,
    "polars_jsonl": check_polars_jsonl, "polars_parquet": check_polars_parquet, "pyarrow": check_pyarrow,
}


def test_every_python_block_is_checked() -> None:
    assert sorted(tag for tag, _ in blocks("python")) == sorted(CHECKS)
    assert [tag for tag, _ in blocks("sql")] == ["sql", "sql"] and [tag for tag, _ in blocks("sh")] == ["export"]


@pytest.mark.parametrize("tag", sorted(CHECKS))
def test_python_block(workdir: Path, tag: str) -> None:
    rows = read_jsonl(workdir / "releases.jsonl")
    (code,) = [code for t, code in blocks("python") if t == tag]
    namespace = run_block(code, workdir)
    namespace["__cwd__"] = str(workdir)
    CHECKS[tag](namespace, rows)


def test_sql_blocks(workdir: Path) -> None:
    rows = read_jsonl(workdir / "releases.jsonl")
    here = Path.cwd()
    os.chdir(workdir)
    try:
        results = []
        con = duckdb.connect()
        for _, code in blocks("sql"):
            for statement in filter(str.strip, re.sub(r"--[^\n]*", "", code).split(";")):
                relation = con.sql(statement)
                results.append(relation.fetchall() if relation is not None else None)
    finally:
        os.chdir(here)
    _, newest, latest, attachments, provenance, series = results
    assert len(newest) == 5
    assert all(row[2] is None or row[2].utcoffset() == dt.timedelta(hours=8) for row in newest)
    assert len(latest) == len({r["release_id"] for r in rows})
    assert len(attachments) == sum(len(r["attachments"]) for r in rows)
    assert ("schema_version", "2") in provenance
    events = {e["event_id"] for e in read_jsonl(workdir / "events.jsonl") if e["event"] == "hits_changed"}
    assert len(series) == len(rows) + len(events)


def test_polars_reads_the_jsonl_in_any_row_order(workdir: Path, tmp_path: Path) -> None:
    rows = read_jsonl(workdir / "releases.jsonl")
    reordered = sorted(rows, key=lambda row: row["hits"] is not None)  # every null count first
    assert sum(row["hits"] is None for row in rows) > 100  # more than polars' default inference window
    with (tmp_path / "releases.jsonl").open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in reordered)
    with pytest.raises(pl.exceptions.ComputeError):  # the default reader fails on these: the doc's option matters
        pl.read_ndjson(tmp_path / "releases.jsonl")
    (code,) = [code for t, code in blocks("python") if t == "polars_jsonl"]
    check_polars_jsonl(run_block(code, tmp_path), reordered)
    pandas_df = pd.read_json(tmp_path / "releases.jsonl", lines=True, dtype={"hits": "Int64"})
    assert len(pandas_df) == len(rows) and str(pandas_df["hits"].dtype) == "Int64"
