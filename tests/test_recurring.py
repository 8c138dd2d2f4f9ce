"""Recurring crawls of the simulated portal: unchanged runs, additions, changes, hit counts, removals."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archives.warc_writer import PROFILE_NOT_MODIFIED
from crawler.recurring.events import validate_event
from crawler.recurring.state import CrawlState
from simulator.portal import AID_BASE, SimulatedPortal
from simulator.process import SimulatorProcess
from tests.support.recurring_support import Run, crawl, read_lines, release_id, write_registry

RELEASES = 60
SEED = 11


@dataclass
class Series:
    out: Path
    runs: list[Run]
    mutation: dict
    before: SimulatedPortal
    after: SimulatedPortal


def _records(out: Path) -> list[tuple[str, dict[str, str]]]:
    found = []
    for path in sorted((out / "warc").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                found.append((path.name, dict(record.rec_headers.headers)))
    return found


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Series]:
    """Run 1 (everything), run 2 (nothing changed), run 3 (after adds, a change, new hit counts, a deletion)."""
    tmp = tmp_path_factory.mktemp("recurring")
    out, mutations = tmp / "out", tmp / "mutations.json"
    before = SimulatedPortal(RELEASES, SEED)
    changed = next(r.article_id for i in range(RELEASES) if (r := before.release(i)).language == "zh"
                   and r.hits is not None)
    deleted = next(r.article_id for i in range(RELEASES - 1, 0, -1) if (r := before.release(i)).article_id != changed)
    mutation = {"epoch": 1, "add": 4, "change": {str(changed): "本文于近日作了补充说明。"}, "delete": [deleted]}
    with SimulatorProcess(RELEASES, SEED, extra_args=["--mutations", str(mutations), "--asset-host", ""]) as sim:
        registry = write_registry(tmp / "portals.toml", sim.base_url)
        runs = [crawl(sim, registry, out), crawl(sim, registry, out)]
        mutations.write_text(json.dumps(mutation), encoding="utf-8")
        runs.append(crawl(sim, registry, out))
    after = SimulatedPortal(RELEASES, SEED, mutations_file=str(mutations))
    yield Series(out, runs, mutation, before, after)


def test_run_1_archives_every_release(series: Series) -> None:
    run = series.runs[0]
    assert run.proc.returncode == 0, run.proc.stdout + run.proc.stderr
    rows = read_lines(series.out / "releases.jsonl")[:RELEASES]
    assert {r["release_id"] for r in rows} == {release_id(AID_BASE + i) for i in range(RELEASES)}
    assert run.full_release_fetches == RELEASES


def test_run_2_unchanged_makes_only_conditional_requests_answered_304(series: Series) -> None:
    run1, run2 = series.runs[:2]
    assert run2.proc.returncode == 0, run2.proc.stdout + run2.proc.stderr
    assert run2.full_release_fetches == 0
    assert run2.requests["release_conditional"] == run2.requests["release_not_modified"] == RELEASES
    assert run2.requests["column"] == run1.requests["column"]  # list pages are fetched every run
    assert "304 60" in run2.proc.stdout and "new 0" in run2.proc.stdout


def test_revisits_point_at_archived_originals(series: Series) -> None:
    records = _records(series.out)
    responses = {h["WARC-Record-ID"]: h for _, h in records if h["WARC-Type"] == "response"}
    revisits = [h for _, h in records if h["WARC-Type"] == "revisit"]
    not_modified = [h for h in revisits if h["WARC-Profile"] == PROFILE_NOT_MODIFIED]
    assert len(not_modified) >= RELEASES  # run 2: all; run 3: the untouched English pages
    for revisit in revisits:
        original = responses[revisit["WARC-Refers-To"]]
        assert original["WARC-Target-URI"] == revisit["WARC-Refers-To-Target-URI"] == revisit["WARC-Target-URI"]
        assert original["WARC-Date"] == revisit["WARC-Refers-To-Date"]
        assert original["WARC-Payload-Digest"] == revisit["WARC-Payload-Digest"]
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check",
                            *map(str, sorted((series.out / "warc").glob("*.warc.gz")))], capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0 and not check.stderr, check.stdout + check.stderr


def test_run_3_records_exactly_what_the_portal_did(series: Series) -> None:
    run3 = series.runs[2]
    assert run3.proc.returncode == 0, run3.proc.stdout + run3.proc.stderr
    changed, deleted = int(next(iter(series.mutation["change"]))), series.mutation["delete"][0]
    rows = read_lines(series.out / "releases.jsonl")
    new_rows = rows[RELEASES:]
    added = {release_id(AID_BASE + i) for i in range(RELEASES, RELEASES + series.mutation["add"])}
    assert sorted(r["release_id"] for r in new_rows) == sorted([*added, release_id(changed)])
    events = read_lines(series.out / "events.jsonl")
    for event in events:
        validate_event(event)
    kinds: dict[str, set[str]] = {}
    for event in events:
        kinds.setdefault(event["event"], set()).add(event["release_id"])
    expected_hits = {release_id(AID_BASE + i) for i in range(RELEASES)
                     if series.before.release(i).hits != series.after.release(i).hits
                     and AID_BASE + i not in (changed, deleted)}
    assert expected_hits and kinds["hits_changed"] == expected_hits
    assert kinds["release_changed"] == {release_id(changed)}
    assert kinds["release_removed"] == {release_id(deleted)}
    assert len(events) == len(expected_hits) + 2
    hits_event = next(e for e in events if e["event"] == "hits_changed")
    index = int(hits_event["release_id"].split("_")[-1]) - AID_BASE
    assert hits_event["old"]["hits"] == series.before.release(index).hits
    assert hits_event["new"]["hits"] == series.after.release(index).hits


def test_state_and_export_agree_with_the_portal(series: Series) -> None:
    deleted = release_id(series.mutation["delete"][0])
    state = CrawlState(series.out / "state.sqlite")
    try:
        rows = {r["release_id"]: r for r in state.releases("demo")}
        runs = state.runs("demo")
    finally:
        state.close()
    assert len(rows) == RELEASES + series.mutation["add"]
    assert rows[deleted]["removed_at"] is not None
    assert sum(1 for r in rows.values() if r["removed_at"]) == 1
    assert [r["outcome"] for r in runs] == ["complete"] * 3
    assert json.loads(runs[0]["warc_files"]) and runs[1]["listed"] == RELEASES
    for rid, row in rows.items():
        if rid != deleted:
            assert row["last_seen"] >= runs[2]["started_at"]  # listed in run 3


def test_old_releases_are_not_requested_and_a_lost_state_means_full_records(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with SimulatorProcess(20, 3, extra_args=["--asset-host", ""]) as sim:
        registry = write_registry(tmp_path / "portals.toml", sim.base_url, refresh_window="30d")
        first = crawl(sim, registry, out)
        assert first.proc.returncode == 0, first.proc.stderr
        second = crawl(sim, registry, out)  # the simulator's releases are dated 2014-2024: all old
        assert second.requests.get("release", 0) == 0
        assert int(re.search(r"old (\d+)", second.proc.stdout).group(1)) >= 20  # type: ignore[union-attr]
        refreshed = crawl(sim, registry, out, "--refresh")
        assert refreshed.requests["release_not_modified"] == 20
        (out / "state.sqlite").write_bytes(b"this is not sqlite" * 64)
        for suffix in ("-wal", "-shm"):
            Path(str(out / "state.sqlite") + suffix).unlink(missing_ok=True)
        lost = crawl(sim, registry, out, "--refresh")
    assert lost.proc.returncode == 0, lost.proc.stderr
    assert "unreadable" in (out / "crawl.log").read_text(encoding="utf-8")
    assert list(out.glob("state.sqlite.unreadable-*"))  # moved aside, not deleted
    assert lost.requests.get("release_conditional", 0) == 0 and lost.full_release_fetches == 20
    rows = read_lines(out / "releases.jsonl")
    assert len(rows) == 20  # rebuilt from the JSONL: the full fetches made no duplicate rows
    last_file = sorted((out / "warc").glob("*.warc.gz"))[-1]
    with last_file.open("rb") as handle:
        types = [r.rec_type for r in ArchiveIterator(handle)]
    assert "revisit" not in types and types.count("response") >= 20


def test_run_due_started_twice_at_once_crawls_each_due_portal_once(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with SimulatorProcess(15, 4, extra_args=["--asset-host", ""]) as sim:
        registry = tmp_path / "portals.toml"
        text = write_registry(tmp_path / "one.toml", sim.base_url, portal="alpha").read_text()
        registry.write_text(text + "\n" + text.replace("[portals.alpha]", "[portals.beta]"), encoding="utf-8")
        command = [str(Path(sys.executable).parent / "crawler"), "run-due", "--portals", str(registry),
                   "--archive-root", str(root), "--parallel", "2",
                   "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "ATTACHMENTS_ENABLED=False",
                   "--set", "REQUISITES_ENABLED=False"]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
        second = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
        outputs = [p.communicate(timeout=300)[0] for p in (first, second)]
        assert first.returncode == second.returncode == 0, outputs
        releases = sim.stats()["requests"]["release"]
        again = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent.parent,
                               timeout=120)
    assert releases == 2 * 15, outputs  # each portal's releases fetched exactly once
    assert "no portal is due" in again.stdout
    for portal in ("alpha", "beta"):
        state = CrawlState(root / portal / "state.sqlite")
        try:
            runs = state.runs(portal)
        finally:
            state.close()
        assert [r["outcome"] for r in runs] == ["complete"]  # the loser was refused before starting a run
        assert len(read_lines(root / portal / "releases.jsonl")) == 15
