"""Reading gzip-per-record WARC files with FastWARC (resiliparse), giving exactly what warcio's reading gives.

FastWARC does the work warcio spends its time on (gzip members, WARC headers, skipping records nobody reads) in
native code. Everything a row can hold is still derived the way warcio derives it, so the two readers cannot drift:

- a record's offset is FastWARC's ``stream_pos`` (the start of its gzip member) and its length runs to the next
  record's offset (the last one to the end of the file): warcio's member offset and length, for a file that is one
  gzip member per record. A file that is not (an uncompressed ``.warc``, several records in one member: offsets that
  do not grow) raises :class:`NotFramed`, and the caller reads it with warcio;
- WARC header values are taken as bytes and decoded as warcio decodes a header line (UTF-8, else ISO-8859-1), and a
  ``WARC-Target-URI`` in angle brackets or with spaces goes through warcio's own correction;
- the HTTP headers and the payload are parsed from the record block by warcio's own parser and readers
  (:func:`http_record`), over the block bytes FastWARC (or, for a plain record read again, zlib: :func:`read_block`)
  inflated: the same status, headers, de-chunking and Content-Encoding decoding.

No Scrapy imports; FastWARC is imported lazily (:func:`available`), so the module loads without it.
"""

from __future__ import annotations

import io
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders

from archives.warc_reader import payload_size

_GZIP_MAGIC = b"\x1f\x8b"
_LOADER = ArcWarcRecordLoader()
#: Bytes of a block read first when only its HTTP headers are wanted (the whole block when they run past them).
HEAD_BYTES = 8192


#: A WARC header line that is not ``name: value`` (a continuation, a blank-looking line): left to FastWARC.
_ODD_LINE = re.compile(rb"\n[^:\r\n]*\r\n|\n[ \t]")
#: Record types whose other WARC headers :func:`scan_file` reads.
_DETAILED = frozenset({"response", "revisit", "metadata"})


class NotFramed(Exception):
    """A file FastWARC's framing cannot stand in for warcio's on (not one gzip member per record)."""


def available() -> bool:
    """True when FastWARC can be imported."""
    try:
        import fastwarc.warc  # noqa: F401
    except ImportError:
        return False
    return True


def _text(raw: bytes | None) -> str | None:
    """A header value decoded as warcio decodes a header line."""
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


@dataclass(slots=True)
class ScannedRecord:
    """One record's WARC headers (as warcio's ``get_header`` would give them) and place in its file."""

    kind: str | None
    url: str
    offset: int
    record_id: str | None = None
    date: str | None = None
    payload_digest: str | None = None
    refers_to: str | None = None
    refers_to_uri: str | None = None
    refers_to_date: str | None = None
    #: warcio's record length: the WARC Content-Length (0 when invalid or negative, None when absent)
    content_length: int | None = None
    content_type: str | None = None
    #: What the caller's ``inspect`` returned for the record while it was current.
    seen: Any = None
    #: The gzip member's length; set once the next record's offset (or the file's end) is known.
    length: int = 0


def _target_uri(headers: Any) -> str:
    raw = _text(headers.get_bytes(b"WARC-Target-URI"))
    if raw is None or not ("<" in raw or " " in raw):
        return raw or ""
    # warcio strips <...> (wget 1.19) and percent-encodes spaces on its own parsed headers: let it do so
    parsed = StatusAndHeaders("", [(_text(k) or "", _text(v) or "") for k, v in headers.items_bytes()], "WARC/1.0")
    fixed = _LOADER._ensure_target_uri_format(parsed)
    return parsed.get_header("WARC-Target-URI") or "" if fixed is not None else ""


def _content_length(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        length = int(raw)
    except ValueError:
        return 0
    return length if length >= 0 else 0


def check_framing(path: Path) -> None:
    """Raise :class:`NotFramed` unless ``path`` starts as a gzip file (an uncompressed WARC is read by warcio)."""
    with path.open("rb") as handle:
        if handle.read(2) != _GZIP_MAGIC:
            raise NotFramed(f"{path.name}: not gzip-compressed")


def scan_file(path: Path, inspect: Callable[[ScannedRecord, Any], Any] | None = None) -> Iterator[ScannedRecord]:
    """The response, revisit and metadata records of ``path`` in order, with their member offsets and lengths.

    ``inspect(record, reader)``, if given, is called while each record is current (its block can be read from
    ``reader`` then, and only then); what it returns is kept as the record's ``seen``. Records are yielded one
    behind the iteration (a record's length is known at the next record's start); of the other records only the
    WARC-Type is read.
    """
    from fastwarc.warc import ArchiveIterator

    check_framing(path)
    size = path.stat().st_size
    pending: ScannedRecord | None = None
    last = -1
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle, parse_http=False, fsspec_args=False):
            offset = record.stream_pos
            if offset <= last:
                raise NotFramed(f"{path.name}: several records share a gzip member near offset {offset}")
            last = offset
            if pending is not None:
                pending.length = offset - pending.offset
                yield pending
                pending = None
            headers = record.headers
            get = headers.get_bytes
            kind = _text(get(b"WARC-Type"))
            if kind not in _DETAILED:
                continue
            kind = sys.intern(kind)  # these strings repeat on every record the index and the references keep
            pending = ScannedRecord(kind, _target_uri(headers), offset, _text(get(b"WARC-Record-ID")),
                                    _text(get(b"WARC-Date")), _text(get(b"WARC-Payload-Digest")))
            pending.content_length = _content_length(_text(get(b"Content-Length")))
            content_type = _text(get(b"Content-Type"))
            pending.content_type = sys.intern(content_type) if content_type is not None else None
            if kind == "revisit":
                pending.refers_to = _text(get(b"WARC-Refers-To"))
                pending.refers_to_uri = _text(get(b"WARC-Refers-To-Target-URI"))
                pending.refers_to_date = _text(get(b"WARC-Refers-To-Date"))
            if inspect is not None:
                pending.seen = inspect(pending, record.reader)
    if pending is not None:
        pending.length = size - pending.offset
        yield pending


#: Open files :func:`read_block` reads from, by path (one process reads the same few files over and over).
_OPEN: dict[Path, int] = {}


def read_block(path: Path, scanned: ScannedRecord) -> bytes:
    """The block (the bytes after the WARC headers) of a record :func:`scan_file` found.

    A plain record (one gzip member holding CRLF ``name: value`` header lines, a block of exactly its
    Content-Length, and the CRLF CRLF that ends a record) is cut out of the member zlib inflates; anything else is
    left to FastWARC's parsing.
    """
    fd = _OPEN.get(path)
    if fd is None:
        if len(_OPEN) >= 64:
            close_files()
        fd = _OPEN[path] = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    member = os.pread(fd, scanned.length, scanned.offset)
    inflate = zlib.decompressobj(31)
    try:
        data = inflate.decompress(member)
    except zlib.error:
        data = b""
    end, length = data.find(b"\r\n\r\n"), scanned.content_length
    if (inflate.eof and not inflate.unused_data and end > 0 and length is not None
            and len(data) == end + 8 + length and data.endswith(b"\r\n\r\n")
            and data.count(b"\n", 0, end) == data.count(b"\r\n", 0, end) and not _ODD_LINE.search(data, 0, end + 2)):
        return data[end + 4:end + 4 + length]
    from fastwarc.warc import ArchiveIterator

    record = next(iter(ArchiveIterator(io.BytesIO(member), parse_http=False, fsspec_args=False)))
    return bytes(record.reader.read())


def close_files() -> None:
    """Close the files :func:`read_block` keeps open."""
    while _OPEN:
        os.close(_OPEN.popitem()[1])


def read_head(reader: Any) -> tuple[bytes, bool]:
    """The start of the current record's block (enough for its HTTP headers, as a rule) and whether that is all."""
    head = bytes(reader.read(HEAD_BYTES))
    return head, len(head) < HEAD_BYTES


def http_record(scanned: ScannedRecord, block: bytes, *, ensure_http_headers: bool = False,
                complete: bool = True) -> ArcWarcRecord | None:
    """warcio's record for ``block``: HTTP headers parsed by warcio's loader, ``raw_stream`` at the payload.

    With ``complete=False`` (``block`` is only the start of the record's block) returns None when the headers may
    run past it; read the whole block then.
    """
    stream = io.BytesIO(block)
    length = scanned.content_length
    try:
        http_headers = _LOADER.load_http_headers(scanned.kind, scanned.url, stream, length)
    except Exception:
        if complete:
            raise
        return None  # perhaps only because the block was cut: the caller reads all of it
    if not complete and stream.tell() >= len(block):
        return None
    payload_length = -1
    if length and http_headers:
        payload_length = length - stream.tell()
    if not http_headers and ensure_http_headers:
        http_headers = _LOADER.default_http_headers(length, scanned.content_type)
    return ArcWarcRecord("warc", scanned.kind, None, stream, http_headers, scanned.content_type, length,
                         payload_length=payload_length)


def read_record(path: Path, scanned: ScannedRecord) -> ArcWarcRecord:
    """warcio's record of a record :func:`scan_file` found, its whole block read (default HTTP headers when it has
    none)."""
    record = http_record(scanned, read_block(path, scanned), ensure_http_headers=True)
    assert record is not None  # a whole block: parsed or raised
    return record


def http_headers(path: Path, scanned: ScannedRecord) -> Any:
    """warcio's parsed HTTP headers of a response record :func:`scan_file` found (defaults when it has none)."""
    return read_record(path, scanned).http_headers


def decoded_size(path: Path, scanned: ScannedRecord) -> int:
    """The decoded body's length of a response record (``AttachmentIndex``'s ``size``), read as warcio reads it."""
    return payload_size(read_record(path, scanned))
