"""Upgrading from schema 1: a crawl made by the version-1 code (tests/data/v1_crawl: its WARC, its v1 rows and its
recurring state, crawled from the simulator with ``releases=8, seed=12``, requisites off) is replayed into the rows a
live crawl gives today, and its state is migrated and re-baselined without a "changed" event.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.recurring.state import CrawlState
from pipelines.validate import row_problem
from simulator.process import SimulatorProcess
from tests.support.common import read_jsonl, run_cli
from tests.support.recurring_support import crawl, read_lines, write_registry

V1_CRAWL = Path(__file__).parent / "data" / "v1_crawl"
RELEASES, SEED = 8, 12
FETCH_FIELDS = ("fetched_at", "warc")


def _path(url: str) -> str:
    return urlsplit(url).path


def _release_fields(row: dict[str, Any]) -> dict[str, Any]:
    """What a row says about the release, with the simulator's host and port (different per run) taken out."""
    fields = {key: value for key, value in row.items() if key not in FETCH_FIELDS}
    fields["url"] = _path(row["url"])
    fields["attachments"] = [{**{k: v for k, v in a.items() if k != "warc"},
                              "url": urlsplit(a["url"])._replace(netloc="").geturl()} for a in row["attachments"]]
    return fields


@pytest.fixture(scope="module")
def live_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """A crawl of the same simulated portal by today's code (same settings as the v1 crawl)."""
    out = tmp_path_factory.mktemp("live") / "out"
    with SimulatorProcess(releases=RELEASES, seed=SEED) as sim:
        args = ["crawl", "--start-url", sim.base_url, "--portal", "demo", "--out", str(out), "--delay", "0",
                "--set", f"ARCHIVER_ALLOWED_IPS=127.0.0.1,{sim.asset_host or ''}", "--set", "REQUISITES_ENABLED=False"]
        if sim.asset_host:
            args += ["--asset-hosts", sim.asset_host.split(":")[0]]
        proc = run_cli(*args, timeout=300)
        assert proc.returncode == 0, proc.stdout[-2000:]
    return read_jsonl(out / "releases.jsonl")


def test_the_fixture_is_a_version_1_crawl() -> None:
    rows = read_jsonl(V1_CRAWL / "releases.jsonl")
    assert len(rows) == RELEASES and {row["schema_version"] for row in rows} == {1}
    assert all(row_problem(row) is None for row in rows)  # old rows still check against the v1 schema
    assert any(row["release_datetime"] and len(row["release_datetime"]) == 22 for row in rows)  # ...T18:38+08:00


def test_replaying_v1_warcs_gives_the_v2_rows_of_a_live_crawl(live_rows: list[dict[str, Any]],
                                                              tmp_path: Path) -> None:
    out = tmp_path / "replayed.jsonl"
    proc = run_cli("replay", str(V1_CRAWL / "warc"), "--out", str(out), "--portal", "demo")
    assert proc.returncode == 0, proc.stderr[-2000:]
    replayed = {_path(row["url"]): row for row in read_jsonl(out)}
    live = {_path(row["url"]): row for row in live_rows}
    assert replayed.keys() == live.keys() and len(replayed) == RELEASES
    for path, row in replayed.items():
        assert row["schema_version"] == 2 and row_problem(row) is None, (path, row_problem(row))
        assert _release_fields(row) == _release_fields(live[path]), path
    v1 = {_path(row["url"]): row for row in read_jsonl(V1_CRAWL / "releases.jsonl")}
    for path, row in replayed.items():  # what version 2 changed, on the same bytes
        old = v1[path]
        assert row["release_id"] == f"demo:{old['column']['id']}_{old['release_id'].split(':')[1]}"
        assert (row["column_id"], row["column_name"]) == (old["column"]["id"], old["column"]["name"])
        assert row["fetched_at"] == old["fetched_at"][:19] + "Z"
        assert row["warc"] == old["warc"]
        if old["release_datetime"] is not None:
            assert row["release_datetime"][:16] == old["release_datetime"][:16]
            assert row["release_time_precision"] == ("minute" if len(old["release_datetime"]) == 22 else "second")
        assert row["attachments"] == [] if old["attachments"] is None else len(row["attachments"]) == len(
            old["attachments"])
        for same in ("title", "release_date", "hits", "source", "index_no", "doc_no", "body_text", "language"):
            assert row[same] == old[same], (path, same)


def test_a_v1_state_is_migrated_and_the_upgrade_is_no_change(tmp_path: Path) -> None:
    """The next recurring run after the upgrade: every release known, each re-baselined (a v2 row), no event."""
    out = tmp_path / "out"
    shutil.copytree(V1_CRAWL, out)
    with SimulatorProcess(releases=RELEASES, seed=SEED) as sim:
        registry = write_registry(tmp_path / "portals.toml", sim.base_url)
        run = crawl(sim, registry, out)  # the state beside releases.jsonl is the v1 crawl's
    assert run.proc.returncode == 0, run.proc.stdout[-2000:]
    state = CrawlState(out / "state.sqlite")
    ids = sorted(row["release_id"] for row in state.releases())
    assert state.db.execute("PRAGMA user_version").fetchone()[0] == 2
    state.close()
    v1_rows = read_jsonl(V1_CRAWL / "releases.jsonl")
    assert ids == sorted(f"demo:{row['column']['id']}_{row['release_id'].split(':')[1]}" for row in v1_rows)
    rows = read_jsonl(out / "releases.jsonl")[len(v1_rows):]  # the journal goes on after the v1 rows
    assert len(rows) == RELEASES and {row["schema_version"] for row in rows} == {2}
    assert sorted(row["release_id"] for row in rows) == ids
    events = read_lines(out / "events.jsonl")
    assert not [event for event in events if event["event"] == "release_changed"], events[:2]
    assert "new 0" in run.proc.stdout and "changed 0" in run.proc.stdout, run.proc.stdout[-800:]
