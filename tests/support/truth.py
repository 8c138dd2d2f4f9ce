"""Rows against the simulator's truth: which releases are missing or doubled, and which fields differ."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Row fields compared with the truth field of the same name (schema 2.0 rows).
COMPARED_FIELDS = ("release_id", "title", "release_date", "release_datetime", "release_time_precision",
                   "release_source", "hits", "source", "index_no", "doc_no", "body_text", "language")
#: Every field the truth states: the compared row fields plus the column, the charset used and the attachments.
ALL_FIELDS = (*COMPARED_FIELDS, "column", "charset_used", "attachments")


@dataclass
class Completeness:
    """Release URLs of the truth against the rows: missing, doubled and unexpected."""

    missing: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not (self.missing or self.doubled or self.unexpected)

    def describe(self, limit: int = 5) -> str:
        return (f"{len(self.missing)} missing (e.g. {self.missing[:limit]}), {len(self.doubled)} doubled "
                f"(e.g. {self.doubled[:limit]}), {len(self.unexpected)} not in the truth "
                f"(e.g. {self.unexpected[:limit]})")


def completeness(rows: Iterable[Mapping[str, Any]], truth: Mapping[str, Any]) -> Completeness:
    """Every release of the truth must be one row (by URL), and nothing else a row."""
    counts = collections.Counter(row["url"] for row in rows)
    return Completeness(
        missing=sorted(set(truth) - set(counts)),
        doubled=sorted(url for url, n in counts.items() if n > 1),
        unexpected=sorted(set(counts) - set(truth)),
    )


def row_value(row: Mapping[str, Any], name: str) -> Any:
    """A row's value of a compared field (one place to follow schema changes of the rows)."""
    if name == "column":
        return {"id": row["column_id"], "name": row["column_name"]}
    if name == "charset_used":
        return row["charset"]["used"]
    if name == "attachments":  # the files the page links, in page order (what was fetched is checked elsewhere)
        return [{"url": a["url"], "name": a["name"]} for a in row["attachments"] or ()]
    return row[name]


def field_mismatches(rows: Iterable[Mapping[str, Any]], truth: Mapping[str, Mapping[str, Any]],
                     names: Iterable[str] = ALL_FIELDS,
                     ) -> tuple[collections.Counter[str], dict[str, tuple[str, Any, Any]]]:
    """Count, per field, the rows whose value differs from the truth; keep the first example of each."""
    mismatches: collections.Counter[str] = collections.Counter()
    examples: dict[str, tuple[str, Any, Any]] = {}
    wanted = tuple(names)
    for row in rows:
        true = truth.get(row["url"])
        if true is None:
            continue
        for name in wanted:
            got = row_value(row, name)
            if got != true[name]:
                mismatches[name] += 1
                examples.setdefault(name, (row["url"], got, true[name]))
    return mismatches, examples
