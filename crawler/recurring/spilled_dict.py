"""A string-keyed dictionary that keeps its entries in an SQLite table and only the latest few in memory.

The recurring controller keeps two facts per release for the whole run (was it listed, what did this run
extract); as plain dictionaries they grow by about 600 bytes a release. ``SpilledDict`` holds new entries in a
small dictionary and writes them to a table (a ``TEMP`` table of the crawl state's connection: private to the
run, on disk behind SQLite's bounded page cache, never fsynced, gone when the connection closes) once
``spill_at`` are pending, and whenever the owner calls `spill` (the recurring controller does at every
checkpoint), each time in a transaction of its own. Lookups read the pending entries first, then the table.
Values are JSON-encoded (a tuple comes back as a tuple).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

#: Pending entries written to the table at once (bounds the in-memory part).
SPILL_AT = 2048
_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


class SpilledDict:
    """``key -> JSON value``: a pending dictionary in front of the table ``temp.<name>``; see the module docstring."""

    def __init__(self, db: sqlite3.Connection, name: str, spill_at: int = SPILL_AT) -> None:
        if not _NAME.match(name):
            raise ValueError(f"not a table name: {name!r}")
        self.db = db
        self.table = f"temp.{name}"
        self.spill_at = spill_at
        self._pending: dict[str, Any] = {}
        db.execute("PRAGMA temp_store=FILE")  # TEMP tables on disk, whatever the build's default
        db.execute(f"DROP TABLE IF EXISTS {self.table}")
        db.execute(f"CREATE TABLE {self.table} (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID")

    def __len__(self) -> int:
        self.spill()
        stored = self.db.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0]
        return int(stored) + sum(1 for key in self._pending if not self._stored(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in self._pending or self._stored(key))

    def __getitem__(self, key: str) -> Any:
        if key in self._pending:
            return self._pending[key]
        row = self.db.execute(f"SELECT value FROM {self.table} WHERE key=?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return _decode(row[0])

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __setitem__(self, key: str, value: Any) -> None:
        self._pending[key] = value
        if len(self._pending) >= self.spill_at:
            self.spill()

    def add(self, key: str, value: Any = None) -> bool:
        """Set ``key`` unless present; True when it was new."""
        if key in self:
            return False
        self[key] = value
        return True

    def keys_sql(self) -> str:
        """A subquery of every key, for SQL that joins against this dictionary (call `spill` first)."""
        return f"SELECT key FROM {self.table}"

    def spill(self) -> None:
        """Write the pending entries to the table, in a transaction of their own (deferred while one is open)."""
        if not self._pending or self.db.in_transaction:
            return
        rows = [(key, json.dumps(value, ensure_ascii=False)) for key, value in self._pending.items()]
        self.db.execute("BEGIN")  # a TEMP table only: no lock on the state database, no fsync
        try:
            self.db.executemany(f"INSERT OR REPLACE INTO {self.table} (key, value) VALUES (?, ?)", rows)
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        self._pending.clear()

    def __iter__(self) -> Iterator[str]:
        self.spill()
        for (key,) in self.db.execute(f"SELECT key FROM {self.table}"):
            yield key

    def _stored(self, key: str) -> bool:
        return self.db.execute(f"SELECT 1 FROM {self.table} WHERE key=?", (key,)).fetchone() is not None


def _decode(text: str) -> Any:
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value
