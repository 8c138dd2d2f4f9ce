"""What the crawl remembers about the attachments it fetched: URL -> row fields, least recently used forgotten first.

Up to ``ATTACHMENTS_MEMORY`` URLs are remembered, so a file linked from several releases is fetched once and its
pointer reused across the whole crawl. They are kept in a private temporary SQLite database (``sqlite3.connect("")``:
an unnamed file SQLite deletes on close, never fsynced; its page cache is SQLite's default 2 MB), with only the
``HOT_URLS`` most recently used in memory: a remembered attachment costs disk, not the ~700 bytes of Python
objects it took (up to ~140 MB at the 200,000-URL limit).
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from typing import Any

#: Most recently used results also kept in memory (the rest are read back from the database).
HOT_URLS = 1024


class AttachmentMemory:
    """A least-recently-used map ``url -> fields`` of at most ``limit`` entries, mostly on disk."""

    def __init__(self, limit: int, hot: int = HOT_URLS) -> None:
        if limit <= 0:
            raise ValueError(f"the attachment memory must hold at least one URL, got {limit}")
        self.limit = limit
        self.hot_limit = max(1, min(hot, limit))
        self.hot: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.db = sqlite3.connect("", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")  # scratch data: nothing to roll back or recover
        self.db.execute("CREATE TABLE results (url TEXT PRIMARY KEY, used INTEGER NOT NULL, fields TEXT NOT NULL)")
        self.db.execute("CREATE INDEX results_used ON results (used)")
        self._count = 0
        self._clock = 0  # the "used" stamp: higher is more recent

    def __len__(self) -> int:
        return self._count

    def get(self, url: str) -> dict[str, Any] | None:
        """The fields remembered for ``url`` (now its most recent use), or None."""
        result = self.hot.get(url)
        if result is None:
            row = self.db.execute("SELECT fields FROM results WHERE url=?", (url,)).fetchone()
            if row is None:
                return None
            result = json.loads(row[0])
            self._keep_hot(url, result)
        else:
            self.hot.move_to_end(url)
        self._clock += 1
        self.db.execute("UPDATE results SET used=? WHERE url=?", (self._clock, url))
        return result

    def put(self, url: str, result: dict[str, Any]) -> None:
        """Remember ``url`` as most recently used; forget the least recently used beyond ``limit``."""
        self._clock += 1
        known = self.db.execute("SELECT 1 FROM results WHERE url=?", (url,)).fetchone() is not None
        self.db.execute("INSERT INTO results (url, used, fields) VALUES (?, ?, ?) ON CONFLICT(url) DO UPDATE "
                        "SET used=excluded.used, fields=excluded.fields",
                        (url, self._clock, json.dumps(result, ensure_ascii=False)))
        self._count += not known
        self._keep_hot(url, result)
        while self._count > self.limit:
            (oldest,) = self.db.execute("SELECT url FROM results ORDER BY used LIMIT 1").fetchone()
            self.db.execute("DELETE FROM results WHERE url=?", (oldest,))
            self.hot.pop(oldest, None)
            self._count -= 1

    def close(self) -> None:
        self.hot.clear()
        self.db.close()

    def _keep_hot(self, url: str, result: dict[str, Any]) -> None:
        self.hot[url] = result
        self.hot.move_to_end(url)
        while len(self.hot) > self.hot_limit:
            self.hot.popitem(last=False)
