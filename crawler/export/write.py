"""``crawler export``: the release rows of crawl directories as one Parquet, CSV or JSONL file.

Rows stream from `crawler.export.source` in record batches of ``batch_rows`` (pyarrow ``ParquetWriter`` and
``csv.CSVWriter``), so memory stays bounded by the batch, whatever the crawl's size; ``--latest`` adds a dictionary
of ``release_id -> (fetched_at, position)`` (about 150 bytes a release) built in a first pass. The file is written
under a temporary name beside the target and renamed into place once complete: a failed export leaves nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from crawler.export.arrow_schema import CSV_SCHEMA, EXPORT_FORMAT, parquet_schema, record_batch
from crawler.export.source import CrawlDir, ExportInputError, RowSource, run_ids, scan
from crawler.items import SCHEMA_VERSION
from pipelines import EXTRACTOR_VERSION

FORMATS = ("parquet", "csv", "jsonl")
#: Rows per record batch: the export's memory is about this many rows (with their bodies) at a time.
BATCH_ROWS = 2000
PACKAGE = "district-portal-archiver"
_NONE = ("", -1)


def software() -> str:
    """The exporting software and its version (``district-portal-archiver 0.1.0``)."""
    try:
        return f"{PACKAGE} {version(PACKAGE)}"
    except PackageNotFoundError:  # a source tree that was not installed
        return f"{PACKAGE} (not installed)"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    path: Path
    format: str
    rows: int
    rows_dropped: int
    crawls: int
    seconds: float
    metadata: dict[str, str]


def export(crawls: list[CrawlDir], fmt: str, target: Path, *, latest: bool = False,
           batch_rows: int = BATCH_ROWS) -> ExportResult:
    """Write the rows of *crawls* to *target* as *fmt*; `ExportInputError` (and nothing written) on bad input."""
    if fmt not in FORMATS:
        raise ExportInputError(f"--format {fmt!r}: unknown format (expected one of {', '.join(FORMATS)})")
    started = time.monotonic()
    source = RowSource(crawls)
    keep, total = scan(source, latest=latest)
    dropped = total - len(keep) if keep is not None else 0
    metadata = provenance(source, latest=latest, rows=total - dropped, dropped=dropped)
    with _replaced(target) as handle:
        if fmt == "jsonl":
            rows = _write_jsonl(handle, source, keep)
        else:
            rows = _write_table(handle, fmt, source, keep, batch_rows, metadata)
        if rows != total - dropped:  # a crawl appended between the passes: the metadata would be wrong
            raise ExportInputError(f"{', '.join(str(c.path) for c in crawls)}: rows changed while exporting "
                                   "(expected finished crawls; export again when no crawl writes to them)")
    return ExportResult(target, fmt, rows, dropped, len(crawls), time.monotonic() - started, metadata)


def provenance(source: RowSource, *, latest: bool, rows: int, dropped: int) -> dict[str, str]:
    """The Parquet key-value metadata (`arrow_schema.METADATA_KEYS`) of an export of *source*'s rows."""
    crawls = [{"path": str(crawl.path.resolve()), "portals": sorted(source.portals.get(crawl.path, ())),
               "run_ids": run_ids(crawl)} for crawl in source.crawls]
    return {
        "export_format": EXPORT_FORMAT,
        "software": software(),
        "schema_version": str(SCHEMA_VERSION),
        "extractor_version": EXTRACTOR_VERSION,
        "extractor_versions": json.dumps(sorted(source.extractor_versions)),
        "crawls": json.dumps(crawls, ensure_ascii=False),
        "latest": "true" if latest else "false",
        "rows": str(rows),
        "rows_dropped": str(dropped),
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _write_jsonl(handle: BinaryIO, source: RowSource, keep: dict[str, tuple[str, int]] | None) -> int:
    """The rows exactly as the crawls wrote them (schema 2), the kept ones only with *keep*."""
    count = 0
    for position, line, row in source.rows():
        if keep is None or keep.get(row["release_id"], _NONE)[1] == position:
            handle.write(line)
            count += 1
    return count


def _write_table(handle: BinaryIO, fmt: str, source: RowSource, keep: dict[str, tuple[str, int]] | None,
                 batch_rows: int, metadata: dict[str, str]) -> int:
    """Record batches of the (kept) rows into a Parquet file (with *metadata*, `parquet_schema`) or a CSV file."""
    count = 0
    csv = fmt == "csv"
    writer: Any = (pa_csv.CSVWriter(handle, CSV_SCHEMA) if csv
                   else pq.ParquetWriter(handle, parquet_schema(metadata), compression="zstd"))
    try:
        for rows in source.batches(batch_rows, keep):
            writer.write_batch(record_batch(rows, csv=csv))
            count += len(rows)
    finally:
        writer.close()
    return count


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def _replaced(target: Path) -> Iterator[BinaryIO]:
    """A temporary file beside *target*, renamed to it when the block succeeds, removed when it fails."""
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ExportInputError(f"-o {target}: a directory (expected a file path to write)")
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ExportInputError(f"-o {target}: cannot write in {directory} ({exc.strerror}; expected a file path "
                               "in a writable directory)") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(name, 0o666 & ~_umask())
        os.replace(name, target)
    finally:
        if os.path.exists(name):
            os.unlink(name)
