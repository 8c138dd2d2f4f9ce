"""The crawl state: an embedded SQLite database (WAL mode, schema version in ``PRAGMA user_version``).

Tables: ``runs`` (one row per crawl run of a portal: its number, its ``run_uid`` string and its outcome: complete |
incomplete | failed | flagged | interrupted | crashed), ``releases`` (one row per ``release_id``: where it was
seen, its last full capture — the *original* a revisit refers to — its latest capture, validators, content
fingerprint, hits, removal) and ``journals`` (how far the releases JSONL and the events JSONL have been
applied to this database: those files are the journal, the database is the checkpoint; see
``crawler.recurring.controller``). Times are UTC ISO 8601 with microseconds and a ``Z``, so they sort as text.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.errors import CrawlerError
from spiders.hanweb_lists import article_ids, release_key

#: 1: release ids ``portal:articleid``; 2: ``portal:columnid_articleid`` for Hanweb article URLs (schema 2.0 rows).
SCHEMA_VERSION = 2
#: Outcomes of runs the next run resumes (the releases they archived are not requested again).
RESUMABLE = ("crashed", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    portal TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    outcome TEXT,
    pid INTEGER,
    host TEXT,
    resumes INTEGER,
    listed INTEGER,
    flags TEXT,
    coverage TEXT,
    stats TEXT,
    warc_files TEXT
);
CREATE INDEX IF NOT EXISTS runs_portal ON runs (portal, run_id);
CREATE TABLE IF NOT EXISTS releases (
    release_id TEXT PRIMARY KEY,
    portal TEXT NOT NULL,
    url TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT,
    last_fetched TEXT,
    release_date TEXT,
    fingerprint TEXT,
    hits INTEGER,
    payload_digest TEXT,
    etag TEXT,
    last_modified TEXT,
    orig_record_id TEXT,
    orig_uri TEXT,
    orig_date TEXT,
    orig_filename TEXT,
    orig_offset INTEGER,
    orig_length INTEGER,
    latest_type TEXT,
    latest_record_id TEXT,
    latest_filename TEXT,
    latest_offset INTEGER,
    latest_length INTEGER,
    removed_at TEXT
);
CREATE INDEX IF NOT EXISTS releases_portal ON releases (portal);
CREATE TABLE IF NOT EXISTS journals (
    path TEXT PRIMARY KEY,
    offset INTEGER NOT NULL
);
"""


def migrated_release_id(release_id: str, url: str) -> str:
    """A state-schema-1 release id in schema 2.0's terms: ``portal:{column}_{article}`` for Hanweb article URLs."""
    portal, _, _ = release_id.partition(":")
    key = release_key(url) if article_ids(url) else None
    return f"{portal}:{key}" if key else release_id


class StateError(CrawlerError, RuntimeError):
    """The state database cannot be opened or read (corrupt, newer schema, not SQLite)."""


def utcnow() -> str:
    """Now, as the state stores times."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """A datetime as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def whole_second(stamp: str) -> str:
    """A time in the state's form (`iso`) with its fraction of a second cut to zero."""
    moment = parse_iso(stamp)
    assert moment is not None
    return iso(moment.replace(microsecond=0))


def parse_iso(text: str | None) -> datetime | None:
    """The inverse of `iso` (also accepts second precision); None for None."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class CrawlState:
    """A connection to the state database; every write method commits one transaction."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StateError(f"crawl state {self.path} has schema version {version}; this code knows "
                                 f"{SCHEMA_VERSION}: upgrade the archiver")
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
            self._add_columns()
            if version < SCHEMA_VERSION:
                self._migrate(version)
            self.db.execute("SELECT count(*) FROM releases").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"crawl state {self.path} is unreadable: {exc}") from exc

    def _migrate(self, version: int) -> None:
        """Bring a state of an older schema version up to `SCHEMA_VERSION`, in one transaction.

        Version 1 -> 2: each release's id is recomputed from the URL the state keeps (schema 2.0's identity rule,
        `spiders.hanweb_lists.release_key`). Fingerprints stay: they carry the extractor version that made them,
        so the first run of the new extractor re-baselines each release (a row, no ``release_changed`` event;
        docs/recurring.md). A new database (no releases yet) just gets the version.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if version == 1:
                renames = [(new, old) for old, url in self.db.execute("SELECT release_id, url FROM releases")
                           if (new := migrated_release_id(old, url)) != old]
                # two v1 ids never map to one new id (v1 ids were unique by article id, the new ones add a column)
                self.db.executemany("UPDATE releases SET release_id=? WHERE release_id=?", renames)
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _add_columns(self) -> None:
        """Columns added to a schema-1 database after it was made (``runs.run_uid``: the run id string)."""
        present = {row[1] for row in self.db.execute("PRAGMA table_info(runs)")}
        if "run_uid" not in present:
            self.db.execute("ALTER TABLE runs ADD COLUMN run_uid TEXT")

    def close(self) -> None:
        self.db.close()

    # -- runs -------------------------------------------------------------------------------------------

    def start_run(self, portal: str, resumes: int | None = None, run_uid: str | None = None) -> int:
        """Record the start of a run (*run_uid*: the run id string of warcinfo and report.json); return its number."""
        import socket

        cur = self.db.execute(
            "INSERT INTO runs (portal, started_at, pid, host, resumes, run_uid) VALUES (?, ?, ?, ?, ?, ?)",
            (portal, utcnow(), os.getpid(), socket.gethostname(), resumes, run_uid))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, outcome: str, *, listed: int, flags: list[str], coverage: Mapping[str, Any],
                   stats: Mapping[str, Any], warc_files: list[str]) -> None:
        """Record the end of a run."""
        self.db.execute(
            "UPDATE runs SET ended_at=?, outcome=?, listed=?, flags=?, coverage=?, stats=?, warc_files=? "
            "WHERE run_id=?",
            (utcnow(), outcome, listed, json.dumps(flags), json.dumps(coverage, sort_keys=True),
             json.dumps(stats, sort_keys=True, default=str), json.dumps(warc_files), run_id))

    def mark_crashed(self, portal: str, before_run: int) -> list[sqlite3.Row]:
        """Mark unfinished earlier runs of *portal* as crashed (the caller holds the portal lock); return them."""
        rows = self.db.execute("SELECT * FROM runs WHERE portal=? AND ended_at IS NULL AND run_id<? ORDER BY run_id",
                               (portal, before_run)).fetchall()
        if rows:
            self.db.execute("UPDATE runs SET outcome='crashed' WHERE portal=? AND ended_at IS NULL AND run_id<?",
                            (portal, before_run))
        return rows

    def runs(self, portal: str | None = None) -> list[sqlite3.Row]:
        """Runs, oldest first (of one portal, or all)."""
        if portal is None:
            return self.db.execute("SELECT * FROM runs ORDER BY run_id").fetchall()
        return self.db.execute("SELECT * FROM runs WHERE portal=? ORDER BY run_id", (portal,)).fetchall()

    def last_run(self, portal: str, before: int | None = None) -> sqlite3.Row | None:
        """The latest run of *portal* (started before run *before* when given)."""
        limit = before if before is not None else 2**62
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM runs WHERE portal=? AND run_id<? ORDER BY run_id DESC LIMIT 1", (portal, limit)).fetchone()
        return row

    def last_finished_run(self, portal: str, before: int) -> sqlite3.Row | None:
        """The latest run of *portal* before *before* that finished normally."""
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM runs WHERE portal=? AND run_id<? AND outcome IN "
            "('complete', 'incomplete', 'flagged', 'finished') "
            "ORDER BY run_id DESC LIMIT 1", (portal, before)).fetchone()
        return row

    def crash_chain_start(self, portal: str, before: int) -> str | None:
        """Start time of the earliest run in the unbroken series of crashed or interrupted runs just before
        *before*, down to its whole second (None when the run before it ended otherwise).

        Whole seconds because a row's ``fetched_at`` has no fraction: a release a killed run archived in the
        second it started is applied from the journal at that second, and must still count as archived since then.
        """
        since = None
        for row in self.db.execute("SELECT * FROM runs WHERE portal=? AND run_id<? ORDER BY run_id DESC",
                                   (portal, before)):
            if row["outcome"] not in RESUMABLE:
                break
            since = row["started_at"]
        return whole_second(since) if since else None

    # -- releases ---------------------------------------------------------------------------------------

    def release(self, release_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM releases WHERE release_id=?",
                                                  (release_id,)).fetchone()
        return row

    def releases(self, portal: str | None = None) -> Iterator[sqlite3.Row]:
        """All releases (of one portal), by release_id."""
        if portal is None:
            yield from self.db.execute("SELECT * FROM releases ORDER BY portal, release_id")
        else:
            yield from self.db.execute("SELECT * FROM releases WHERE portal=? ORDER BY release_id", (portal,))

    def present_releases(self, portal: str) -> list[tuple[str, str]]:
        """``(release_id, url)`` of every release of *portal* not recorded as removed."""
        rows = self.db.execute("SELECT release_id, url FROM releases WHERE portal=? AND removed_at IS NULL",
                               (portal,))
        return [(r[0], r[1]) for r in rows]

    def present_releases_except(self, portal: str, excluded_ids: str) -> Iterator[tuple[str, str]]:
        """`present_releases` without those whose id the SQL subquery *excluded_ids* yields, one at a time."""
        rows = self.db.execute("SELECT release_id, url FROM releases WHERE portal=? AND removed_at IS NULL "
                               f"AND release_id NOT IN ({excluded_ids})", (portal,))
        for row in rows:
            yield row[0], row[1]

    def count_releases(self, portal: str) -> int:
        return int(self.db.execute("SELECT count(*) FROM releases WHERE portal=?", (portal,)).fetchone()[0])

    # -- journals ---------------------------------------------------------------------------------------

    def journal_offset(self, path: str) -> int:
        row = self.db.execute("SELECT offset FROM journals WHERE path=?", (path,)).fetchone()
        return int(row[0]) if row else 0

    def transaction(self) -> StateTransaction:
        """``with state.transaction() as tx: ...``: one atomic batch of updates."""
        return StateTransaction(self)


class StateTransaction:
    """The write side: upserts from journal rows and events, and the small per-fetch updates."""

    def __init__(self, state: CrawlState) -> None:
        self.db = state.db

    def __enter__(self) -> StateTransaction:
        self.db.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")

    def set_journal_offset(self, path: str, offset: int) -> None:
        self.db.execute("INSERT INTO journals (path, offset) VALUES (?, ?) "
                        "ON CONFLICT(path) DO UPDATE SET offset=excluded.offset", (path, offset))

    def capture(self, release_id: str, portal: str, url: str, when: str, *, fingerprint: str | None,
                hits: int | None, release_date: str | None, pointer: Mapping[str, Any],
                validators: Mapping[str, Any] | None = None) -> None:
        """A full (200) capture that is the release's new original (a new or changed release, or new hits)."""
        validators = validators or {}
        self.db.execute(
            """INSERT INTO releases (release_id, portal, url, first_seen, last_seen, last_fetched, release_date,
                   fingerprint, hits, payload_digest, etag, last_modified, orig_record_id, orig_uri, orig_date,
                   orig_filename, orig_offset, orig_length, latest_type, latest_record_id, latest_filename,
                   latest_offset, latest_length, removed_at)
               VALUES (:rid, :portal, :url, :when, :when, :when, :rdate, :fp, :hits, :digest, :etag, :lm,
                   :recid, :url, :date, :fname, :off, :len, 'response', :recid, :fname, :off, :len, NULL)
               ON CONFLICT(release_id) DO UPDATE SET url=excluded.url, last_seen=max(coalesce(last_seen, ''),
                   excluded.last_seen), last_fetched=excluded.last_fetched, release_date=excluded.release_date,
                   fingerprint=excluded.fingerprint, hits=excluded.hits, payload_digest=excluded.payload_digest,
                   etag=coalesce(excluded.etag, etag), last_modified=coalesce(excluded.last_modified,
                   last_modified), orig_record_id=excluded.orig_record_id, orig_uri=excluded.orig_uri,
                   orig_date=excluded.orig_date, orig_filename=excluded.orig_filename,
                   orig_offset=excluded.orig_offset, orig_length=excluded.orig_length, latest_type='response',
                   latest_record_id=excluded.latest_record_id, latest_filename=excluded.latest_filename,
                   latest_offset=excluded.latest_offset, latest_length=excluded.latest_length, removed_at=NULL""",
            {"rid": release_id, "portal": portal, "url": url, "when": when, "rdate": release_date,
             "fp": fingerprint, "hits": hits, "digest": pointer.get("payload_digest"),
             "etag": validators.get("etag"), "lm": validators.get("last_modified"),
             "recid": pointer.get("record_id"), "date": pointer.get("date") or validators.get("date"),
             "fname": pointer.get("filename"), "off": pointer.get("offset"), "len": pointer.get("length")})

    def recapture(self, release_id: str, when: str, pointer: Mapping[str, Any], *, revisit: bool,
                  validators: Mapping[str, Any] | None = None) -> None:
        """A capture of an unchanged release: a revisit (latest only) or a full response (new original)."""
        validators = validators or {}
        params = {"rid": release_id, "when": when, "recid": pointer.get("record_id"),
                  "fname": pointer.get("filename"), "off": pointer.get("offset"), "len": pointer.get("length"),
                  "etag": validators.get("etag"), "lm": validators.get("last_modified"),
                  "digest": pointer.get("payload_digest"), "uri": pointer.get("url"), "date": pointer.get("date"),
                  "type": "revisit" if revisit else "response"}
        self.db.execute(
            """UPDATE releases SET last_seen=max(coalesce(last_seen, ''), :when), last_fetched=:when,
                   latest_type=:type, latest_record_id=:recid, latest_filename=:fname, latest_offset=:off,
                   latest_length=:len, etag=coalesce(:etag, etag), last_modified=coalesce(:lm, last_modified),
                   removed_at=NULL WHERE release_id=:rid""", params)
        if not revisit:
            self.db.execute(
                """UPDATE releases SET payload_digest=:digest, orig_record_id=:recid, orig_uri=coalesce(:uri,
                       orig_uri), orig_date=:date, orig_filename=:fname, orig_offset=:off, orig_length=:len
                   WHERE release_id=:rid""", params)

    def seen(self, release_ids: list[tuple[str, str]]) -> None:
        """``(release_id, when)`` pairs: the release was listed (or answered) in this run."""
        self.db.executemany("UPDATE releases SET last_seen=max(coalesce(last_seen, ''), ?) WHERE release_id=?",
                            [(when, rid) for rid, when in release_ids])

    def hits(self, release_id: str, hits: int | None) -> None:
        self.db.execute("UPDATE releases SET hits=? WHERE release_id=?", (hits, release_id))

    def removed(self, release_id: str, when: str) -> None:
        self.db.execute("UPDATE releases SET removed_at=coalesce(removed_at, ?) WHERE release_id=?",
                        (when, release_id))


def open_state(path: str | os.PathLike[str]) -> CrawlState:
    """Open (creating when absent) the state database; StateError when it is unreadable."""
    return CrawlState(path)
