"""The SQLite crawl state: schema, captures, journal offsets, unreadable files; and export-state."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from crawler.recurring.journal import replay_journals
from crawler.recurring.state import SCHEMA_VERSION, CrawlState, StateError, whole_second
from tests.support.common import run_cli

POINTER = {"url": "http://a.gov.cn/art/2024/1/2/art_1_7.html", "filename": "a.warc.gz", "offset": 0, "length": 10,
           "record_id": "<urn:uuid:1>", "payload_digest": "sha1:AAAA", "date": "2026-01-02T03:04:05.000000Z"}


def _capture(state: CrawlState, when: str = "2026-01-02T03:04:05.000000Z", **changes: object) -> None:
    with state.transaction() as tx:
        tx.capture("p:7", "p", POINTER["url"], when, fingerprint="v|sha256:1", hits=5, release_date="2024-01-02",
                   pointer={**POINTER, **changes}, validators={"etag": '"e1"', "last_modified": "Tue, 02 Jan"})


def test_schema_is_versioned_and_wal(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "s.sqlite")
    assert state.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert state.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    state.close()
    db = sqlite3.connect(tmp_path / "s.sqlite")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StateError, match="schema version"):
        CrawlState(tmp_path / "s.sqlite")


def test_garbage_is_reported_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"not a database at all " * 100)
    with pytest.raises(StateError, match="unreadable"):
        CrawlState(path)


def test_capture_then_revisit_keeps_the_original(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "s.sqlite")
    _capture(state)
    revisit = {**POINTER, "record_id": "<urn:uuid:2>", "filename": "b.warc.gz", "offset": 99}
    with state.transaction() as tx:
        tx.recapture("p:7", "2026-02-01T00:00:00.000000Z", revisit, revisit=True, validators={"etag": '"e2"'})
    row = state.release("p:7")
    assert row is not None
    assert (row["orig_record_id"], row["orig_filename"]) == ("<urn:uuid:1>", "a.warc.gz")
    assert (row["latest_record_id"], row["latest_type"], row["latest_offset"]) == ("<urn:uuid:2>", "revisit", 99)
    assert row["first_seen"] == "2026-01-02T03:04:05.000000Z" and row["last_seen"] == "2026-02-01T00:00:00.000000Z"
    assert row["etag"] == '"e2"' and row["last_modified"] == "Tue, 02 Jan"
    full = {**POINTER, "record_id": "<urn:uuid:3>", "payload_digest": "sha1:BBBB"}
    with state.transaction() as tx:
        tx.recapture("p:7", "2026-03-01T00:00:00.000000Z", full, revisit=False)
        tx.removed("p:7", "2026-03-02T00:00:00.000000Z")
    row = state.release("p:7")
    assert row is not None
    assert (row["orig_record_id"], row["payload_digest"]) == ("<urn:uuid:3>", "sha1:BBBB")
    assert row["removed_at"] == "2026-03-02T00:00:00.000000Z"
    assert state.present_releases("p") == []


def test_a_failed_transaction_changes_nothing(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "s.sqlite")
    with pytest.raises(RuntimeError), state.transaction() as tx:
        tx.set_journal_offset("/x.jsonl", 123)
        raise RuntimeError("boom")
    assert state.journal_offset("/x.jsonl") == 0


def test_runs_crashed_chain_and_last_finished(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "s.sqlite")
    first = state.start_run("p")
    state.finish_run(first, "finished", listed=3, flags=[], coverage={}, stats={}, warc_files=["a"])
    second = state.start_run("p")  # killed: never finished
    third = state.start_run("p")
    crashed = state.mark_crashed("p", third)
    assert [r["run_id"] for r in crashed] == [second]
    assert state.crash_chain_start("p", third) == whole_second(crashed[0]["started_at"])
    assert state.last_finished_run("p", third)["run_id"] == first  # type: ignore[index]


def test_a_release_archived_in_the_second_a_killed_run_started_counts_as_resumed(tmp_path: Path) -> None:
    """A row's fetched_at has whole seconds; the killed run started 0.6 s into that second (CI saw 5 refetches)."""
    state = CrawlState(tmp_path / "s.sqlite")
    killed = state.start_run("p")
    with state.db:
        state.db.execute("UPDATE runs SET started_at=? WHERE run_id=?", ("2026-12-06T10:00:00.600000Z", killed))
    rows = tmp_path / "releases.jsonl"
    row = {"release_id": "p:1", "portal": "p", "url": "http://127.0.0.1/a/1.html", "fetched_at": "2026-12-06T10:00:00Z",
           "warc": {"filename": "a.warc.gz", "offset": 0, "length": 10, "record_id": "<urn:uuid:1>"}}
    rows.write_text(json.dumps(row) + "\n")
    replay_journals(state, (rows, tmp_path / "events.jsonl"), {})  # the resumed run: the killed run's captures are gone
    resumed = state.start_run("p")
    state.mark_crashed("p", resumed)
    since = state.crash_chain_start("p", resumed)
    release = state.release("p:1")
    assert since is not None and release is not None
    assert release["last_fetched"] >= since  # what the skip tests (crawler.recurring.skip)
    assert since == "2026-12-06T10:00:00.000000Z"


def test_export_state_writes_jsonl_and_csv(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    state = CrawlState(path)
    _capture(state)
    state.close()
    out = tmp_path / "state.jsonl"
    proc = run_cli("export-state", "--state", str(path), "--output", str(out), timeout=60)
    assert proc.returncode == 0, proc.stderr
    (record,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["release_id"] == "p:7" and record["removed_at"] is None
    assert record["latest_capture"] == {"type": "response", "filename": "a.warc.gz", "offset": 0, "length": 10,
                                        "record_id": "<urn:uuid:1>"}
    proc = run_cli("export-state", "--state", str(path), "--format", "csv", timeout=60)
    rows = list(csv.DictReader(proc.stdout.splitlines()))
    assert rows[0]["release_id"] == "p:7" and rows[0]["first_seen"] == "2026-01-02T03:04:05.000000Z"
    missing = run_cli("export-state", "--state", str(tmp_path / "none.sqlite"), timeout=60)
    assert missing.returncode == 2 and "no crawl state" in missing.stderr


def _v1_state(path: Path, rows: list[tuple[str, str]]) -> None:
    """A state as schema version 1 wrote it: release ids ``portal:articleid``."""
    state = CrawlState(path)
    with state.transaction() as tx:
        for rid, url in rows:
            tx.capture(rid, rid.split(":")[0], url, "2026-01-02T03:04:05.000000Z", fingerprint="hanweb-extract/1.0.1|x",
                       hits=5, release_date="2024-01-02", pointer={**POINTER, "url": url})
    state.db.execute("PRAGMA user_version=1")
    state.close()


def test_v1_state_is_migrated_to_schema_2_ids_on_first_open(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _v1_state(path, [("p:7", "http://a.gov.cn/art/2024/1/2/art_101_7.html"),
                     ("p:9", "http://a.gov.cn/xxgk/202401/t20240102_9.shtml")])
    state = CrawlState(path)
    assert state.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert [(r["release_id"], r["hits"], r["fingerprint"]) for r in state.releases()] == [
        ("p:101_7", 5, "hanweb-extract/1.0.1|x"), ("p:9", 5, "hanweb-extract/1.0.1|x")]
    state.close()
    again = CrawlState(path)  # a second open finds version 2 and changes nothing
    assert [r["release_id"] for r in again.releases()] == ["p:101_7", "p:9"]
    again.close()


def test_a_failed_migration_leaves_the_v1_state_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.recurring import state as state_module

    path = tmp_path / "s.sqlite"
    _v1_state(path, [("p:7", "http://a.gov.cn/art/2024/1/2/art_101_7.html")])

    def boom(release_id: str, url: str) -> str:
        raise sqlite3.DatabaseError("disk I/O error")

    monkeypatch.setattr(state_module, "migrated_release_id", boom)
    with pytest.raises(StateError):
        CrawlState(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert db.execute("SELECT release_id FROM releases").fetchall() == [("p:7",)]
    db.close()
