"""The ledger of one run's release URLs: every URL the crawl learnt of and where it ended, in SQLite (bounded memory).

An entry is keyed by the URL a release request was first made for (before redirects). Its ``state`` moves
``pending`` (learnt) -> ``fetched`` (its page answered) -> ``queued`` (its row went to the JSONL export) ->
``archived`` (the row is in releases.jsonl), or ends as ``failed`` (a failure row, with its reason) or ``skipped``
(a documented skip, with its reason). The first final state wins, except that a queued row can still fail to be
written. ``listings`` remembers every column whose list named the URL (a release can be listed by several columns),
``aliases`` the URLs a release answered at after redirects.

The database is SQLite's private temporary on-disk database (an empty file name): pages beyond a small cache go to
a temporary file that is deleted when the connection closes, so memory does not grow with the portal.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

PENDING, FETCHED, QUEUED, ARCHIVED, FAILED, SKIPPED = "pending", "fetched", "queued", "archived", "failed", "skipped"
FINAL = (ARCHIVED, FAILED, SKIPPED)
OPEN = (PENDING, FETCHED, QUEUED)

_SCHEMA = """
CREATE TABLE entries (key TEXT PRIMARY KEY, column_id TEXT, via TEXT, depth INTEGER, state TEXT NOT NULL,
                      reason TEXT, copies INTEGER NOT NULL DEFAULT 1);
CREATE TABLE listings (column_id TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (column_id, key)) WITHOUT ROWID;
CREATE TABLE aliases (url TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class OpenEntry:
    """An entry that reached no final state (yet)."""

    key: str
    column_id: str | None
    via: str | None
    depth: int | None
    state: str


class LedgerStore:
    """See the module docstring. Writes are committed every `COMMIT_EVERY` changes and on demand."""

    COMMIT_EVERY = 4096

    def __init__(self) -> None:
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute("PRAGMA cache_size=-4096")  # 4 MiB of pages in memory, the rest in the temporary file
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(_SCHEMA)
        self.db.execute("BEGIN")
        self._changes = 0

    def close(self) -> None:
        self.db.close()

    def _changed(self) -> None:
        self._changes += 1
        if self._changes >= self.COMMIT_EVERY:
            self.commit()

    def commit(self) -> None:
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")
        self._changes = 0

    # -- learning ---------------------------------------------------------------------------------------

    def learn(self, key: str, column_id: str | None, via: str | None, depth: int | None) -> bool:
        """Record a release URL a list named; True when it is new in this run."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO entries (key, column_id, via, depth, state) VALUES (?, ?, ?, ?, ?)",
            (key, column_id, via, depth, PENDING))
        new = cur.rowcount > 0
        if not new:  # listed again: one more request for it is on its way (the dupefilter drops all but one)
            self.db.execute("UPDATE entries SET copies = copies + 1 WHERE key=?", (key,))
        if column_id:
            self.db.execute("INSERT OR IGNORE INTO listings (column_id, key) VALUES (?, ?)", (column_id, key))
        self._changed()
        return new

    def drop_copy(self, key: str) -> bool:
        """One request for *key* was dropped as a duplicate: True when it was the last one (so the page is fetched
        under another URL the dupefilter takes for the same), False when another copy of it is still on its way."""
        row = self.db.execute("SELECT copies FROM entries WHERE key=?", (key,)).fetchone()
        if row is None:
            return False
        self.db.execute("UPDATE entries SET copies = copies - 1 WHERE key=? AND copies > 0", (key,))
        self._changed()
        return int(row[0]) <= 1

    def alias(self, url: str, key: str) -> None:
        """*url* is where the release learnt as *key* answered (after redirects)."""
        if url != key:
            self.db.execute("INSERT OR IGNORE INTO aliases (url, key) VALUES (?, ?)", (url, key))
            self._changed()

    def resolve(self, url: str) -> str | None:
        """The entry key of a URL (itself, or the release it is an alias of), or None when no list named it."""
        if self.db.execute("SELECT 1 FROM entries WHERE key=?", (url,)).fetchone():
            return url
        row = self.db.execute("SELECT key FROM aliases WHERE url=?", (url,)).fetchone()
        return str(row[0]) if row else None

    def entry(self, key: str) -> tuple[str, str | None, str | None, str | None] | None:
        """``(state, reason, via, column_id)`` of an entry, or None."""
        row = self.db.execute("SELECT state, reason, via, column_id FROM entries WHERE key=?", (key,)).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    # -- outcomes ---------------------------------------------------------------------------------------

    def advance(self, key: str, state: str, reason: str | None = None) -> bool:
        """Move an entry on; a final state is kept (first wins), and an open one never moves back.

        Returns True when the entry changed.
        """
        before = OPEN[: OPEN.index(state)] if state in OPEN else OPEN
        if not before:
            return False
        marks = ",".join("?" * len(before))
        cur = self.db.execute(f"UPDATE entries SET state=?, reason=? WHERE key=? AND state IN ({marks})",
                              (state, reason, key, *before))
        self._changed()
        return cur.rowcount > 0

    # -- reading ----------------------------------------------------------------------------------------

    def open_entries(self) -> Iterator[OpenEntry]:
        """Entries with no final state, one at a time."""
        last = ""
        while True:
            rows = self.db.execute(f"SELECT key, column_id, via, depth, state FROM entries WHERE key > ? AND state IN "
                                   f"({','.join('?' * len(OPEN))}) ORDER BY key LIMIT 1000", (last, *OPEN)).fetchall()
            if not rows:
                return
            for key, column, via, depth, state in rows:
                yield OpenEntry(key, column, via, depth, state)
            last = rows[-1][0]

    def totals(self) -> dict[tuple[str, str | None], int]:
        """``(state, reason) -> count`` over every entry."""
        rows = self.db.execute("SELECT state, reason, count(*) FROM entries GROUP BY state, reason")
        return {(state, reason): count for state, reason, count in rows}

    def by_column(self) -> dict[str, dict[str, int]]:
        """``column_id -> {"listed", "archived", "failed", "skipped", "open"}`` over the listings of each column."""
        found: dict[str, dict[str, int]] = {}
        rows = self.db.execute("SELECT l.column_id, e.state, count(*) FROM listings l JOIN entries e ON e.key = l.key "
                               "GROUP BY l.column_id, e.state")
        for column, state, count in rows:
            counts = found.setdefault(column, {"listed": 0, ARCHIVED: 0, FAILED: 0, SKIPPED: 0, "open": 0})
            counts["listed"] += count
            counts[state if state in FINAL else "open"] += count
        return found

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM entries").fetchone()[0])
