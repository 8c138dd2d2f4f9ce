"""Recover what an abrupt stop (kill -9, power loss) left behind: ``.open`` WARCs and a partial JSONL line.

Pure file operations, no Scrapy. A WARC written by :class:`archives.warc_writer.RotatingWarcWriter` is a run of
gzip members, one record each (WARC 1.1 Annex D). :func:`recover_warc` keeps the longest prefix of members that
each decompress completely and parse as exactly one WARC record whose block length equals its ``Content-Length``,
cuts the rest (``ftruncate``), fsyncs, renames ``NAME.open`` to ``NAME`` without ever replacing a file, and adds
the file to the fixity manifest. A file with no complete record left is removed. :func:`cut_partial_jsonl_line`
cuts a JSON Lines file back to its last ``\\n``.

The caller makes sure no live writer holds the files (see ``crawler recover`` / the crawl lock).
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archives.errors import ArchiveError
from archives.fixity import append_fixity
from archives.warc_writer import OPEN_SUFFIX

logger = logging.getLogger(__name__)

_READ = 1024 * 1024
#: A single record's gzip member larger than this is not materialized for the parse check (it is streamed).
_MAX_MEMBER_CHECK = 256 * 1024 * 1024


@dataclass
class WarcRecovery:
    """What :func:`recover_warc` did to one ``.open`` file."""

    source: Path
    target: Path | None
    records: int
    kept_bytes: int
    cut_bytes: int
    removed: bool = False


@dataclass
class RecoveryReport:
    """What :func:`recover_directory` did."""

    warcs: list[WarcRecovery] = field(default_factory=list)
    jsonl_cut_bytes: dict[str, int] = field(default_factory=dict)


class RecoveryError(ArchiveError):
    """A file could not be recovered (named in the message); nothing was changed."""


def _members(handle: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """Yield (end offset, decompressed bytes) per complete gzip member; bytes None when too large to check.

    Stops at the first member that is incomplete or corrupt. One sequential pass over the file.
    """
    offset = 0
    pending = b""
    while True:
        decomp = zlib.decompressobj(wbits=31)
        out: list[bytes] | None = []
        size = 0
        consumed = 0
        while not decomp.eof:
            chunk = pending or handle.read(_READ)
            pending = b""
            if not chunk:
                return
            try:
                data = decomp.decompress(chunk)
            except zlib.error:
                return
            size += len(data)
            if out is not None and size <= _MAX_MEMBER_CHECK:
                out.append(data)
            else:
                out = None
            pending = decomp.unused_data
            consumed += len(chunk) - len(pending)
        offset += consumed
        yield offset, (b"".join(out) if out is not None else None)


def _is_one_record(data: bytes) -> bool:
    """True when *data* holds exactly one complete WARC record whose block matches its Content-Length."""
    try:
        records = 0
        for record in ArchiveIterator(BytesIO(data), no_record_parse=True, check_digests=False):
            declared = int(record.rec_headers.get_header("Content-Length") or -1)
            block = record.raw_stream.read()
            if len(block) != declared or not record.rec_headers.get_header("WARC-Record-ID"):
                return False
            records += 1
        return records == 1
    except (ArchiveLoadFailed, ValueError, EOFError, zlib.error):
        return False


def complete_prefix(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Return (bytes, records) of the longest prefix of *path* made of complete, parseable record members."""
    end = records = 0
    with open(path, "rb") as handle:
        for member_end, data in _members(handle):
            if data is not None and not _is_one_record(data):
                break
            end, records = member_end, records + 1
    return end, records


def _rename_no_replace(src: Path, dst: Path) -> None:
    if dst.exists():
        raise RecoveryError(f"cannot recover {src}: {dst.name} already exists")
    try:
        os.link(src, dst)
        os.unlink(src)
    except FileExistsError as exc:
        raise RecoveryError(f"cannot recover {src}: {dst.name} already exists") from exc
    except OSError:
        os.rename(src, dst)  # filesystems without hard links


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover_warc(path: str | os.PathLike[str]) -> WarcRecovery:
    """Cut an ``.open`` WARC after its last complete record, then close it as the writer would have."""
    source = Path(path)
    if not source.name.endswith(OPEN_SUFFIX):
        raise RecoveryError(f"not an .open WARC file: {source}")
    if not source.is_file():
        raise RecoveryError(f"no such file: {source}")
    size = source.stat().st_size
    keep, records = complete_prefix(source)
    if keep != size:
        with open(source, "r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
        logger.warning("WARC %s: cut %d bytes after the last complete record", source.name, size - keep)
    if records == 0:
        source.unlink()
        _fsync_dir(source.parent)
        return WarcRecovery(source, None, 0, 0, size, removed=True)
    target = source.with_name(source.name[: -len(OPEN_SUFFIX)])
    _rename_no_replace(source, target)
    _fsync_dir(source.parent)
    append_fixity(source.parent, target)
    return WarcRecovery(source, target, records, keep, size - keep)


def cut_partial_jsonl_line(path: str | os.PathLike[str]) -> int:
    """Cut a JSON Lines file back to its last ``\\n``; return how many bytes were cut (0 if it was whole)."""
    with open(path, "r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        end = size
        while end > 0:
            start = max(0, end - _READ)
            handle.seek(start)
            cut = handle.read(end - start).rfind(b"\n")
            if cut >= 0:
                end = start + cut + 1
                break
            end = start
        if end != size:
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
    return size - end


def recover_directory(out_dir: str | os.PathLike[str], jsonl_name: str = "releases.jsonl",
                      warc_dir: str = "warc") -> RecoveryReport:
    """Recover every ``.open`` WARC under ``out_dir/warc`` and cut partial last lines of ``out_dir/*.jsonl``."""
    root = Path(out_dir)
    if not root.is_dir():
        raise RecoveryError(f"no such output directory: {root}")
    report = RecoveryReport()
    for path in sorted((root / warc_dir).glob(f"*{OPEN_SUFFIX}")):
        report.warcs.append(recover_warc(path))
    for jsonl in sorted({root / jsonl_name, *root.glob("*.jsonl")}):
        if jsonl.is_file():
            cut = cut_partial_jsonl_line(jsonl)
            if cut:
                report.jsonl_cut_bytes[jsonl.name] = cut
    return report
