"""Check a crawl's outputs together: WARC files, fixity manifest, JSON Lines rows and the pointers between them.

Pure functions (no Scrapy components, no network). :func:`verify_crawl` returns a :class:`VerifyReport` whose
``problems`` are plain sentences naming the file, line or record at fault; an empty list means the crawl is sound:

* every ``warc/*.warc.gz`` parses record by record with warcio, each record has the WARC 1.1 mandatory fields,
  and its ``WARC-Block-Digest`` / ``WARC-Payload-Digest`` hold for the bytes stored;
* no ``*.open`` file is left (a crawl that did not close its WARC);
* ``warc/manifest-sha256.txt`` still matches every WARC (:func:`archives.fixity.verify_fixity`);
* every line of ``releases.jsonl`` is UTF-8 JSON that validates against the v1 release schema, and its ``warc``
  pointer delimits exactly one gzip member holding a ``response`` record whose ``WARC-Target-URI`` equals the
  row's ``url`` and whose record id and payload digest equal the pointer's.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archives.cdxj import ArchiveInputError
from archives.fixity import MANIFEST_NAME, verify_fixity
from archives.warc_writer import OPEN_SUFFIX

JSONL_NAME = "releases.jsonl"
WARC_DIR = "warc"
MANDATORY_FIELDS = ("WARC-Record-ID", "WARC-Date", "WARC-Type", "Content-Length")
TARGET_URI_TYPES = ("response", "resource", "request", "revisit", "conversion", "continuation")
_CHUNK = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b\x08"
_READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError, IndexError, KeyError)


@dataclass
class RecordInfo:
    """What a pointer check needs to know about one record."""

    rec_type: str | None
    target_uri: str | None
    record_id: str | None
    payload_digest: str | None
    warc_date: str | None
    digest_problems: list[str] = field(default_factory=list)
    missing_fields: list[str] = field(default_factory=list)


@dataclass
class VerifyReport:
    """The outcome of :func:`verify_crawl`: problems in plain words, and what was counted."""

    directory: Path
    problems: list[str] = field(default_factory=list)
    record_counts: Counter[str] = field(default_factory=Counter)
    warc_files: list[str] = field(default_factory=list)
    rows: int = 0
    pointers_ok: int = 0
    fixity_entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary_lines(self, max_problems: int = 100) -> list[str]:
        """Human-readable summary (counts first, then the problems, at most *max_problems* of them)."""
        types = ", ".join(f"{name} {count}" for name, count in sorted(self.record_counts.items())) or "none"
        lines = [
            f"crawl: {self.directory}",
            f"WARC files: {len(self.warc_files)}; records by type: {types}",
            f"fixity: {self.fixity_entries} manifest entr{'y' if self.fixity_entries == 1 else 'ies'} checked",
            f"{JSONL_NAME}: {self.rows} rows, {self.pointers_ok} WARC pointers resolved to their response record",
        ]
        if self.ok:
            lines.append("verify: OK, no problems found")
        else:
            lines.append(f"verify: FAILED, {len(self.problems)} problem(s):")
            lines.extend(f"  - {problem}" for problem in self.problems[:max_problems])
            if len(self.problems) > max_problems:
                lines.append(f"  ... and {len(self.problems) - max_problems} more problem(s)")
        return lines


def plain(exc: BaseException, limit: int = 120) -> str:
    """An exception's message on one printable line, cut to *limit* characters (binary garbage shown as ?)."""
    text = " ".join(str(exc).split()) or "no detail"
    text = "".join(ch if (ch.isprintable() and ord(ch) < 0x80) or "\u4e00" <= ch <= "\u9fff" else "?" for ch in text)
    return text if len(text) <= limit else text[:limit] + "…"


def _read_all(stream: Any) -> None:
    while stream.read(1024 * 1024):
        pass


def _record_info(record: Any) -> RecordInfo:
    headers = record.rec_headers
    _read_all(record.raw_stream)  # runs warcio's block and payload digest checks
    checker = getattr(record, "digest_checker", None)
    problems = list(checker.problems) if checker is not None and checker.passed is False else []
    return RecordInfo(
        headers.get_header("WARC-Type"),
        headers.get_header("WARC-Target-URI"),
        headers.get_header("WARC-Record-ID"),
        headers.get_header("WARC-Payload-Digest"),
        headers.get_header("WARC-Date"),
        problems,
        [name for name in MANDATORY_FIELDS if headers.get_header(name) is None],
    )


def _member_end(handle: BinaryIO, offset: int) -> tuple[int | None, str | None]:
    """Where the gzip member starting at *offset* ends, or None and why it is not an intact WARC record member."""
    handle.seek(offset)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    consumed = 0
    head = b""
    while True:
        chunk = handle.read(_CHUNK)
        if not chunk:
            return None, "the file ends inside this gzip member (truncated)"
        try:
            out = inflater.decompress(chunk)
        except zlib.error as exc:
            return None, f"the gzip data is damaged ({plain(exc)})"
        if len(head) < 5:
            head += out[: 5 - len(head)]
        if inflater.eof:
            if not head.startswith(b"WARC/"):
                return None, "this gzip member does not hold a WARC record"
            return offset + consumed + len(chunk) - len(inflater.unused_data), None
        consumed += len(chunk)


def _next_member(handle: BinaryIO, start: int, size: int) -> int | None:
    """The first offset at or after *start* where an intact gzip member holding a WARC record begins."""
    position = start
    while position < size:
        handle.seek(position)
        window = handle.read(_CHUNK + 2)
        found = window.find(_GZIP_MAGIC)
        while found != -1:
            candidate = position + found
            if _member_end(handle, candidate)[0] is not None:
                return candidate
            found = window.find(_GZIP_MAGIC, found + 1)
        position += _CHUNK
    return None


def gzip_members(path: Path) -> Iterator[tuple[int, int, str | None]]:
    """``(offset, length, problem)`` for each gzip member of *path*, in order.

    A damaged stretch is reported once (``problem`` set, ``length`` up to the next intact member) and the walk
    resumes at the next intact member, so one bad record does not hide the rest of the file.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        offset = 0
        while offset < size:
            end, problem = _member_end(handle, offset)
            if end is not None:
                yield offset, end - offset, None
                offset = end
                continue
            resume = _next_member(handle, offset + 1, size)
            yield offset, (resume if resume is not None else size) - offset, problem
            if resume is None:
                return
            offset = resume


def scan_warc(path: Path, problems: list[str], counts: Counter[str]) -> int:
    """Check every record of one ``.warc.gz`` file (one gzip member each); add problems and type counts.

    Returns the number of intact records.
    """
    name = path.name
    number = 0
    intact = 0
    try:
        for offset, length, damage in gzip_members(path):
            number += 1
            if damage:
                problems.append(f"{name}: bytes {offset}..{offset + length} (record {number}) are unreadable: "
                                f"{damage}; the record is corrupted")
                continue
            try:
                info, _ = read_record_at(path, offset, length)
            except ValueError as exc:
                problems.append(f"{name}: record {number} at offset {offset}: {exc}")
                continue
            intact += 1
            counts[info.rec_type or "(no WARC-Type)"] += 1
            where = f"{name}: record {number} at offset {offset} ({info.rec_type} {info.target_uri or ''}".rstrip()
            if info.missing_fields:
                problems.append(f"{where}): missing mandatory WARC field(s) {', '.join(info.missing_fields)}")
            if info.rec_type in TARGET_URI_TYPES and not info.target_uri:
                problems.append(f"{where}): a {info.rec_type} record without WARC-Target-URI")
            if number == 1 and info.rec_type != "warcinfo":
                problems.append(f"{name}: the first record is {info.rec_type!r}, not warcinfo")
            for digest_problem in info.digest_problems:
                problems.append(f"{where}): {digest_problem} (the stored bytes do not match the digest written at "
                                "capture time: the record is corrupted)")
    except OSError as exc:
        problems.append(f"{name}: cannot be read ({exc.strerror or exc})")
    if number == 0:
        problems.append(f"{name}: holds no WARC record")
    return intact


def read_record_at(path: Path, offset: int, length: int) -> tuple[RecordInfo, int]:
    """Parse the record whose gzip member starts at *offset* of *path*; return it and the member's real length.

    *length* is how many bytes to read; the real member length is returned so that the caller can compare.
    Raises ValueError in plain words when the range is outside the file or does not start a gzip member
    holding a WARC record.
    """
    if offset < 0 or length <= 0:
        raise ValueError(f"offset {offset} / length {length} is not a byte range")
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read(length)
    if len(data) != length:
        raise ValueError(f"{path.name} has only {offset + len(data)} bytes, the range ends at {offset + length}")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        head = inflater.decompress(data)
    except zlib.error as exc:
        raise ValueError(f"offset {offset} of {path.name} does not start an intact gzip member ({plain(exc)})") from exc
    if not head.startswith(b"WARC/"):
        raise ValueError(f"offset {offset} of {path.name} does not start a WARC record")
    if not inflater.eof:
        raise ValueError(f"the gzip member at offset {offset} of {path.name} is longer than {length} bytes")
    member_length = length - len(inflater.unused_data)
    try:
        record = next(iter(ArchiveIterator(BytesIO(data[:member_length]), check_digests=True)))
        return _record_info(record), member_length
    except (StopIteration, *_READ_ERRORS) as exc:
        raise ValueError(f"the record at offset {offset} of {path.name} cannot be parsed: {plain(exc)}") from exc


def check_pointer(row: dict[str, Any], warc_dir: Path) -> list[str]:
    """Problems with one row's ``warc`` pointer (empty when it resolves to the response for the row's URL)."""
    pointer = row.get("warc")
    url = row.get("url")
    if not isinstance(pointer, dict):
        return ["has no warc pointer (null): a crawled release must point to its response record"]
    filename = pointer.get("filename")
    offset, length = pointer.get("offset"), pointer.get("length")
    if not isinstance(filename, str) or not isinstance(offset, int) or not isinstance(length, int):
        return [f"warc pointer is incomplete: {pointer!r}"]
    if Path(filename).name != filename:
        return [f"warc pointer filename {filename!r} is not a plain file name"]
    target = warc_dir / filename
    if not target.is_file():
        opened = (warc_dir / (filename + OPEN_SUFFIX)).is_file()
        return [f"warc pointer names {filename}, which does not exist in {warc_dir}"
                + (" (only its .open file does: the crawl did not close it)" if opened else "")]
    where = f"warc pointer {filename}@{offset}+{length}"
    try:
        info, member_length = read_record_at(target, offset, length)
    except ValueError as exc:
        return [f"{where} does not resolve: {exc}"]
    problems = []
    if member_length != length:
        problems.append(f"{where}: the record there is a gzip member of {member_length} bytes, not {length}")
    if info.rec_type != "response":
        problems.append(f"{where} is a {info.rec_type!r} record, not the response record")
    if info.target_uri != url:
        problems.append(f"{where} holds WARC-Target-URI {info.target_uri}, but the row's url is {url}")
    if info.record_id != pointer.get("record_id"):
        problems.append(f"{where}: the record's WARC-Record-ID is {info.record_id}, the pointer says "
                        f"{pointer.get('record_id')}")
    if info.payload_digest != pointer.get("payload_digest"):
        problems.append(f"{where}: the record's WARC-Payload-Digest is {info.payload_digest}, the pointer says "
                        f"{pointer.get('payload_digest')}")
    problems.extend(f"{where}: {p}" for p in info.digest_problems)
    return problems


def check_jsonl(path: Path, warc_dir: Path, report: VerifyReport,
                validate: Callable[[dict[str, Any]], str | None]) -> None:
    """Check every row of releases.jsonl: strict UTF-8 JSON, schema, pointer."""
    with path.open("rb") as handle:
        data = handle.read()
    if data and not data.endswith(b"\n"):
        report.problems.append(f"{path.name}: the last line has no newline (a partial write)")
    for number, raw in enumerate(data.splitlines(), start=1):
        where = f"{path.name} line {number}"
        try:
            row = json.loads(raw.decode("utf-8", errors="strict"))
        except UnicodeDecodeError as exc:
            report.problems.append(f"{where}: not valid UTF-8 ({exc.reason} at byte {exc.start})")
            continue
        except json.JSONDecodeError as exc:
            report.problems.append(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        report.rows += 1
        if not isinstance(row, dict):
            report.problems.append(f"{where}: not a JSON object")
            continue
        label = f"{where} ({row.get('release_id', '?')})"
        error = validate(row)
        if error:
            report.problems.append(f"{label}: does not validate against the release schema v1: {error}")
        pointer_problems = check_pointer(row, warc_dir)
        report.problems.extend(f"{label}: {p}" for p in pointer_problems)
        if not pointer_problems:
            report.pointers_ok += 1


def crawl_paths(directory: str | os.PathLike[str]) -> tuple[Path, Path, Path]:
    """``(crawl dir, warc dir, releases.jsonl)``; ArchiveInputError naming *directory* when it is not a crawl."""
    root = Path(directory)
    if not root.exists():
        raise ArchiveInputError(f"{root}: no such directory")
    if not root.is_dir():
        raise ArchiveInputError(f"{root}: not a directory (expected a crawl output directory with warc/)")
    warc_dir = root / WARC_DIR
    if not warc_dir.is_dir():
        raise ArchiveInputError(f"{root}: not a crawl output directory (it has no {WARC_DIR}/ subdirectory)")
    return root, warc_dir, root / JSONL_NAME


def verify_crawl(directory: str | os.PathLike[str],
                 validate: Callable[[dict[str, Any]], str | None]) -> VerifyReport:
    """Check the crawl in *directory* (``warc/``, ``warc/manifest-sha256.txt``, ``releases.jsonl``).

    ``validate`` names what is wrong with a row (None when it is valid): the release schema's check, which the
    caller brings (``pipelines.validate.row_problem``), so this module stays free of the pipelines.
    """
    root, warc_dir, jsonl = crawl_paths(directory)
    report = VerifyReport(root)
    for leftover in sorted(warc_dir.glob(f"*{OPEN_SUFFIX}")):
        report.problems.append(f"{leftover.name}: an unfinished WARC (.open) file is left; the crawl did not close "
                               "it (killed or crashed)")
    warcs = sorted(warc_dir.glob("*.warc.gz"))
    report.warc_files = [p.name for p in warcs]
    if not warcs:
        report.problems.append(f"{warc_dir}: no closed .warc.gz file")
    for path in warcs:
        scan_warc(path, report.problems, report.record_counts)
    manifest = warc_dir / MANIFEST_NAME
    if not manifest.is_file():
        report.problems.append(f"{MANIFEST_NAME} is missing from {warc_dir}: fixity cannot be checked")
    else:
        report.fixity_entries = sum(1 for line in manifest.read_text(encoding="ascii").splitlines() if line)
        for problem in verify_fixity(warc_dir):
            if problem.endswith("sha256 mismatch"):
                problem += " (the file changed after it was closed and its digest recorded)"
            report.problems.append(f"fixity: {problem}")
    if not jsonl.is_file():
        report.problems.append(f"{JSONL_NAME} is missing from {root}")
    else:
        check_jsonl(jsonl, warc_dir, report, validate)
    return report
