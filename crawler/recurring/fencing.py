"""The fencing token, checked by the portal's own SQLite state before anything is committed.

A run started by a queue worker carries the token of its portal lease (``SCALEOUT_FENCING_TOKEN``). When it
opens the state it records the token in ``scaleout_fence`` (one row per portal) and refuses to start if a newer
token is there already. It then puts TEMP triggers on its own connection: every INSERT, UPDATE or DELETE of a
state table (runs, releases, journals, and whatever tables the schema has by then) first compares the recorded
token with its own, inside the same transaction, and aborts with ``fenced:`` when a newer holder has recorded a
larger one. So a holder that lost its lease (paused, partitioned) can never commit over the newer holder's work;
the writes of other connections (the newer holder's, ``crawler portals``) are not affected.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

TABLE = "scaleout_fence"
ABORT_PREFIX = "fenced:"

_CREATE = (f"CREATE TABLE IF NOT EXISTS {TABLE} (portal TEXT PRIMARY KEY, token INTEGER NOT NULL, holder TEXT, "
           "recorded_at TEXT)")


class Fenced(RuntimeError):
    """A newer lease holder has recorded its token in this portal's state."""

    def __init__(self, portal: str, token: int, newest: int) -> None:
        self.portal, self.token, self.newest = portal, token, newest
        super().__init__(f"portal {portal!r}: fencing token {token} is older than token {newest} recorded in the "
                         "state by a newer run; this run must not write")


def is_fence_abort(exc: BaseException) -> bool:
    """True for the error a fenced write raises (from the TEMP triggers)."""
    return isinstance(exc, sqlite3.DatabaseError) and str(exc).startswith(ABORT_PREFIX)


def install_fence(db: sqlite3.Connection, portal: str, token: int, holder: str = "") -> None:
    """Record ``token`` for ``portal`` (Fenced if a newer one is there), then fence this connection's writes.

    ``db`` is in autocommit mode (``isolation_level=None``), as ``crawler.recurring.state.CrawlState`` opens it.
    Changing ``PRAGMA temp_store`` afterwards would drop the triggers (SQLite drops every TEMP object then):
    set it before.
    """
    if token < 0:
        raise ValueError(f"SCALEOUT_FENCING_TOKEN must be >= 0, got {token}")
    db.execute(_CREATE)
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute(f"SELECT token FROM {TABLE} WHERE portal = ?", (portal,)).fetchone()
        if row is not None and int(row[0]) > token:
            raise Fenced(portal, token, int(row[0]))
        db.execute(f"INSERT INTO {TABLE} (portal, token, holder, recorded_at) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT(portal) DO UPDATE SET token = excluded.token, holder = excluded.holder, "
                   "recorded_at = excluded.recorded_at",
                   (portal, token, holder, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    tables = [name for (name,) in db.execute("SELECT name FROM main.sqlite_master WHERE type = 'table' AND "
                                             "name NOT LIKE 'sqlite_%' AND name != ?", (TABLE,))]
    quoted_portal = portal.replace("'", "''")
    for table in tables:
        for op in ("INSERT", "UPDATE", "DELETE"):
            db.execute(
                f'CREATE TEMP TRIGGER IF NOT EXISTS "fence_{table}_{op.lower()}" BEFORE {op} ON main."{table}" '
                f"WHEN (SELECT token FROM main.{TABLE} WHERE portal = '{quoted_portal}') > {int(token)} "
                f"BEGIN SELECT RAISE(ABORT, '{ABORT_PREFIX} a run with a newer fencing token than {int(token)} "
                f"holds portal {quoted_portal}'); END")


def newest_token(state_path: str | Path, portal: str) -> int:
    """The newest token recorded in a state file for ``portal`` (0 when none, or no state yet)."""
    path = Path(state_path)
    if not path.is_file():
        return 0
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return 0
    try:
        row = db.execute(f"SELECT token FROM {TABLE} WHERE portal = ?", (portal,)).fetchone()
    except sqlite3.Error:
        return 0  # no fence table: no queue run has written this state yet
    finally:
        db.close()
    return int(row[0]) if row else 0
