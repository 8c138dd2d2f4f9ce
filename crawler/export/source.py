"""Crawl output directories as export inputs: checked up front, their release rows streamed in bounded batches.

A crawl's output directory (``crawl --out OUT``) holds ``releases.jsonl`` (schema-2 rows, docs/schema.md) and
beside it ``failures.jsonl``, ``report.json``, ``events.jsonl`` and ``state.sqlite`` when the run wrote them. Rows
are read line by line and handed on in lists of at most ``batch_rows``: the whole crawl is never in memory.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.errors import CrawlerError
from crawler.items import SCHEMA_VERSION

RELEASES = "releases.jsonl"
FAILURES = "failures.jsonl"
EVENTS = "events.jsonl"
REPORT = "report.json"
STATE = "state.sqlite"
EXPECTED = "expected a crawl's output directory, as given to crawler crawl --out, holding releases.jsonl"


class ExportInputError(CrawlerError):
    """An input that is no crawl output, or a row that cannot be exported: one line naming it and what is expected."""


@dataclass(frozen=True)
class CrawlDir:
    """One crawl output directory and the files an export reads from it."""

    path: Path
    #: the rows file's name (``JSONL_OUTPUT_PATH`` may name another)
    releases_name: str = RELEASES

    @property
    def releases(self) -> Path:
        return self.path / self.releases_name

    @property
    def failures(self) -> Path:
        return self.path / FAILURES

    @property
    def events(self) -> Path:
        return self.path / EVENTS

    @property
    def report(self) -> Path:
        return self.path / REPORT

    @property
    def state(self) -> Path:
        return self.path / STATE


def open_crawl(path: str | Path) -> CrawlDir:
    """*path* as a `CrawlDir`; `ExportInputError` when it is no directory or holds no ``releases.jsonl``."""
    directory = Path(path)
    if not directory.is_dir():
        raise ExportInputError(f"{directory}: no such directory ({EXPECTED})")
    crawl = CrawlDir(directory)
    if not crawl.releases.is_file():
        raise ExportInputError(f"{directory}: no {RELEASES}: not a crawl's output directory ({EXPECTED})")
    return crawl


@dataclass
class RowSource:
    """The rows of several crawls in order (crawl by crawl, line by line), each with its position among them all.

    While it reads, it learns what the export's metadata says about the inputs: the portals, the extractor
    versions.
    """

    crawls: list[CrawlDir]
    portals: dict[Path, set[str]] = field(default_factory=dict)
    extractor_versions: set[str] = field(default_factory=set)

    def rows(self) -> Iterator[tuple[int, bytes, dict[str, Any]]]:
        """``(position, line, row)`` for every row of every crawl; `ExportInputError` for a row no export takes."""
        position = 0
        for crawl in self.crawls:
            portals = self.portals.setdefault(crawl.path, set())
            with crawl.releases.open("rb") as handle:
                for number, line in enumerate(handle, start=1):
                    row = _row(crawl.releases, number, line)
                    portals.add(str(row.get("portal")))
                    self.extractor_versions.add(str(row.get("extractor_version")))
                    yield position, line, row
                    position += 1

    def batches(self, batch_rows: int, keep: dict[str, tuple[str, int]] | None = None,
                ) -> Iterator[list[dict[str, Any]]]:
        """The rows in lists of at most *batch_rows*; with *keep* (`scan`), only the kept ones."""
        batch: list[dict[str, Any]] = []
        for position, _, row in self.rows():
            if keep is not None and keep.get(row["release_id"], ("", -1))[1] != position:
                continue
            batch.append(row)
            if len(batch) >= batch_rows:
                yield batch
                batch = []
        if batch:
            yield batch


def _row(path: Path, number: int, line: bytes) -> dict[str, Any]:
    where = f"{path}:{number}"
    if not line.endswith(b"\n"):
        raise ExportInputError(f"{where}: an unfinished last line (a crawl still writing, or killed: "
                               "expected whole lines; run crawler recover OUT)")
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise ExportInputError(f"{where}: not JSON ({exc}; expected one release row per line)") from exc
    if not isinstance(row, dict):
        raise ExportInputError(f"{where}: not a JSON object (expected one release row per line)")
    if row.get("schema_version") != SCHEMA_VERSION:
        raise ExportInputError(f"{where}: schema_version {row.get('schema_version')!r} (expected "
                               f"{SCHEMA_VERSION}; re-extract an older crawl with crawler replay OUT/warc)")
    if not isinstance(row.get("release_id"), str):
        raise ExportInputError(f"{where}: no release_id (expected a schema-{SCHEMA_VERSION} release row)")
    return row


def scan(source: RowSource, *, latest: bool) -> tuple[dict[str, tuple[str, int]] | None, int]:
    """A first pass over every row: checks them all (before anything is written), learns the portals and
    extractor versions, counts the rows; with *latest*, also ``release_id -> (fetched_at, position)`` of each
    release's latest capture.

    The latest is the greatest ``fetched_at`` (RFC 3339 UTC text, which sorts as time); on a tie, or without
    ``fetched_at``, the row read later (a later run appends later). Memory grows with the releases, not the rows.
    """
    keep: dict[str, tuple[str, int]] | None = {} if latest else None
    total = 0
    for position, _, row in source.rows():
        total += 1
        if keep is not None:
            fetched = row.get("fetched_at") or ""
            known = keep.get(row["release_id"])
            if known is None or fetched >= known[0]:
                keep[row["release_id"]] = (fetched, position)
    return keep, total


def run_ids(crawl: CrawlDir) -> list[str]:
    """The run ids of a crawl: every run its state recorded, else the run of its report.json."""
    found: list[str] = []
    if crawl.state.is_file():
        try:
            db = sqlite3.connect(f"{crawl.state.resolve().as_uri()}?mode=ro", uri=True)
            try:
                found = [row[0] for row in db.execute("SELECT run_uid FROM runs ORDER BY run_id") if row[0]]
            finally:
                db.close()
        except sqlite3.Error:
            found = []
    if not found and crawl.report.is_file():
        try:
            run_id = json.loads(crawl.report.read_text(encoding="utf-8")).get("run_id")
        except (OSError, ValueError):
            run_id = None
        if isinstance(run_id, str):
            found = [run_id]
    return found
