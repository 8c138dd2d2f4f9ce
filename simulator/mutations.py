"""Changes to the simulated portal between crawl runs, read from a JSON file that tests rewrite.

``crawler simulate --mutations FILE.json`` re-reads FILE whenever its modification time or size changes (a
``stat`` per request), so a test edits the portal between two runs without restarting it. The file holds::

    {"epoch": 1,                       # every printed (Chinese-template) hit count grows with the epoch
     "add": 5,                         # 5 new releases on top of their columns (dated after the others)
     "change": {"2410003": "text"},    # article id -> a paragraph appended to that release's body
     "delete": [2410010],              # article ids taken down: gone from the lists, the page answers 404
     "gone_status": 404,               # or 410
     "validators": false}              # no ETag/Last-Modified and conditional requests ignored (a plain server)

A missing file means no mutations. A file that is not such a JSON object is an error, answered with 500 by
the server (so a broken test fixture is never mistaken for an unchanged portal).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class MutationError(ValueError):
    """The mutation file is not valid."""


@dataclass(frozen=True)
class Mutations:
    """The parsed mutation file."""

    epoch: int = 0
    add: int = 0
    change: dict[int, str] = field(default_factory=dict)
    delete: frozenset[int] = frozenset()
    gone_status: int = 404
    validators: bool = True

    @classmethod
    def from_json(cls, data: Any, source: str = "mutations") -> Mutations:
        if not isinstance(data, dict):
            raise MutationError(f"{source}: expected a JSON object")
        unknown = set(data) - {"epoch", "add", "change", "delete", "gone_status", "validators"}
        if unknown:
            raise MutationError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
        try:
            epoch, add = int(data.get("epoch", 0)), int(data.get("add", 0))
            change = {int(k): str(v) for k, v in dict(data.get("change", {})).items()}
            delete = frozenset(int(a) for a in data.get("delete", []))
            gone = int(data.get("gone_status", 404))
            validators = data.get("validators", True)
        except (TypeError, ValueError) as exc:
            raise MutationError(f"{source}: {exc}") from exc
        if epoch < 0 or add < 0 or gone not in (404, 410):
            raise MutationError(f"{source}: epoch and add must be >= 0 and gone_status 404 or 410")
        if not isinstance(validators, bool):
            raise MutationError(f"{source}: validators must be true or false")
        return cls(epoch, add, change, delete, gone, validators)


class MutationFile:
    """A mutation file re-read when it changes on disk."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._key: tuple[int, int] | None = None
        self.current = Mutations()

    def load(self) -> Mutations:
        """The mutations now in force (re-parsed only when the file changed)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._key, self.current = None, Mutations()
            return self.current
        key = (st.st_mtime_ns, st.st_size)
        if key != self._key:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise MutationError(f"{self.path}: {exc}") from exc
            self.current = Mutations.from_json(data, str(self.path))
            self._key = key
        return self.current
