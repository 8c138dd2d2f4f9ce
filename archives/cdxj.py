"""Sorted CDXJ indexes of our WARCs, through cdxj-indexer's Python API.

POST (and PUT) responses are keyed with their request body (``--post-append``): cdxj-indexer pairs a response with
the ``request`` record next to it (our writer puts it right after, linked by ``WARC-Concurrent-To``) and appends
``__wb_method=post&<form fields>`` to the URL before making the SURT key, so the dataproxy list pages that share
one URL and differ only in their form body get distinct keys. Those lines also carry ``method`` and
``requestBody`` fields. Lines are sorted (by code point, which is UTF-8 byte order) as pywb requires for a
binary-searched ``.cdxj``.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterable
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer

from archives.errors import ArchiveError

WARC_SUFFIXES = (".warc.gz", ".warc")


class ArchiveInputError(ArchiveError, ValueError):
    """An input path is missing, unreadable or not a WARC file; the message names it."""


def _looks_like_warc(path: Path) -> str | None:
    """None when *path* starts like a WARC (plain or gzip), else a short reason."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if not head:
        return "is empty"
    if head[:2] == b"\x1f\x8b":
        try:
            text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 16)
        except zlib.error as exc:
            return f"is gzip but cannot be decompressed ({exc})"
    else:
        text = head[:16]
    if not text.startswith(b"WARC/"):
        return "is not a WARC file (it does not start with a 'WARC/' version line)"
    return None


def warc_files(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and directories (recursively) into the WARC files to index, in a stable order.

    ``.open`` files (still being written) are skipped. Raises ArchiveInputError naming the first bad input: a
    path that does not exist, a directory without WARC files, or a file that is not a WARC.
    """
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(WARC_SUFFIXES))
            if not inside:
                raise ArchiveInputError(f"{path}: directory holds no .warc.gz or .warc file")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise ArchiveInputError(f"{path}: not a regular file or directory")
        else:
            raise ArchiveInputError(f"{path}: no such file or directory")
    for path in found:
        problem = _looks_like_warc(path)
        if problem:
            raise ArchiveInputError(f"{path}: {problem}")
    seen: set[Path] = set()
    unique = []
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def write_cdxj(inputs: Iterable[str | os.PathLike[str]], output: str | os.PathLike[str],
               post_append: bool = True) -> int:
    """Index *inputs* (WARC files or directories) into the sorted CDXJ file *output*; return its line count.

    The file is written next to *output* and renamed into place, so a failed run leaves no half index. The
    ``filename`` field of each line is the WARC's base name (as in a pywb collection's ``archive/``).
    """
    files = warc_files(inputs)
    out = Path(output)
    if out.is_dir():
        raise ArchiveInputError(f"{out}: output is a directory, expected a .cdxj file path")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        indexer = CDXJIndexer(str(tmp), [str(p) for p in files], post_append=post_append, sort=True)
        indexer.process_all()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    with out.open("rb") as handle:
        return sum(1 for _ in handle)


def read_cdxj(path: str | os.PathLike[str]) -> list[tuple[str, str, dict[str, str]]]:
    """Parse a CDXJ file into ``(urlkey, timestamp, fields)`` triples (``.gz`` accepted)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.startswith("!"):
                continue
            key, ts, blob = line.rstrip("\n").split(" ", 2)
            rows.append((key, ts, json.loads(blob)))
    return rows
