"""Reading captures back out of WARC files, for replay and verification. No Scrapy imports.

Every ``response`` record becomes a :class:`Capture`; a ``revisit`` record becomes a capture of its own (its own
date and pointer) whose body is the original's, found through ``WARC-Refers-To`` (or, failing that, through
``WARC-Refers-To-Target-URI`` + ``WARC-Refers-To-Date``). Bodies are read de-chunked and decoded from their
Content-Encoding by warcio's streaming readers, with a byte limit, so a decompression bomb already in an archive
cannot exhaust memory.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException

from archives.errors import ArchiveError
from archives.pointer import WarcPointer

#: What warcio raises on a file, or a part of one, that is not WARC records (the reader names no file).
WARC_READ_ERRORS: tuple[type[BaseException], ...] = (ArchiveLoadFailed, StatusAndHeadersParserException,
                                                     zlib.error, EOFError)


class UnreadableWarc(ArchiveError):
    """A WARC file, or a record in one, could not be read as WARC; the message says what the reader found."""

#: Largest decoded body replay will materialize (bytes); larger ones are cut and flagged.
DEFAULT_MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True)
class Capture:
    """One captured HTTP response as replay needs it."""

    url: str
    warc_date: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    body_truncated: bool
    filename: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None
    record_type: str
    method: str = "GET"

    def header(self, name: str) -> str | None:
        """First value of an HTTP header, case-insensitively."""
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def pointer(self) -> WarcPointer:
        """Where this capture's record lives."""
        return WarcPointer(self.url, self.filename, self.offset, self.length, self.record_id, self.payload_digest,
                           self.warc_date)


def warc_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and directories into the closed WARC files they hold, sorted by name."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.name.endswith((".warc.gz", ".warc"))))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such WARC file or directory: {path}")
    return found


def open_records(handle: BinaryIO) -> ArchiveIterator:
    """An iterator over the records of an open WARC file that parses only the WARC headers.

    Most records a reader skips (requests, unwanted responses) need no HTTP header parsing, which is most of
    warcio's work per record; call :func:`load_http_headers` on the records whose HTTP headers are read.
    """
    return ArchiveIterator(handle, no_record_parse=True, ensure_http_headers=False)


def read_payload(record: ArcWarcRecord, limit: int) -> bytes:
    """Up to ``limit`` bytes of the record's entity, de-chunked and decoded from its Content-Encoding.

    warcio decodes gzip and deflate itself; its brotli path expects the brotlipy API, which Google's ``brotli``
    (the module Scrapy needs in this environment) does not have, so ``br`` is decoded here, with the same limit.
    """
    encoding = record.http_headers.get_header("Content-Encoding") if record.http_headers else None
    if (encoding or "").strip().lower() != "br":
        return bytes(record.content_stream().read(limit))
    import brotli

    raw = record.raw_stream.read(limit)
    try:
        return bytes(brotli.Decompressor().process(raw, output_buffer_limit=limit))
    except brotli.error:
        return bytes(raw)  # not really brotli: hand over the stored bytes, as for any undecodable body


#: Bytes read (and, for brotli, decoded) at a time when only an entity's decoded length is wanted.
_SIZE_STEP = 1 << 20


def payload_size(record: ArcWarcRecord) -> int:
    """The length in bytes of the record's entity as :func:`read_payload` decodes it, read in steps (an attachment's
    ``size``: the live crawl's ``len(response.body)`` after Scrapy's decompression), whatever its length."""
    encoding = record.http_headers.get_header("Content-Encoding") if record.http_headers else None
    if (encoding or "").strip().lower() != "br":
        stream, size = record.content_stream(), 0
        while chunk := stream.read(_SIZE_STEP):
            size += len(chunk)
        return size
    import brotli

    decoder, raw, stored, size = brotli.Decompressor(), record.raw_stream, 0, 0
    try:
        while chunk := raw.read(_SIZE_STEP):
            stored += len(chunk)
            size += len(decoder.process(chunk, output_buffer_limit=_SIZE_STEP))
            while not decoder.can_accept_more_data():
                size += len(decoder.process(b"", output_buffer_limit=_SIZE_STEP))
        while not decoder.is_finished():  # output still held once the input is all in
            out = decoder.process(b"", output_buffer_limit=_SIZE_STEP)
            if not out:
                break  # a stream cut short: what it gave
            size += len(out)
    except brotli.error:
        while chunk := raw.read(_SIZE_STEP):  # not really brotli: the stored bytes, as read_payload hands them over
            stored += len(chunk)
        return stored
    return size


def load_http_headers(iterator: ArchiveIterator, record: ArcWarcRecord) -> None:
    """Parse the HTTP headers of a record from :func:`open_records`, exactly as warcio's own parsing mode would.

    Must be called before anything else reads the record's stream; sets ``record.http_headers`` (warcio's default
    ``200 OK`` headers for a record without any, as with ``ensure_http_headers=True``) and ``payload_length``.
    """
    if record.http_headers is not None:
        return
    loader, stream, length = iterator.loader, record.raw_stream, record.length
    start = stream.tell()
    http_headers = loader.load_http_headers(record.rec_type, record.rec_headers.get_header("WARC-Target-URI") or "",
                                            stream, length)
    if length and http_headers:
        record.payload_length = length - (stream.tell() - start)
    record.http_headers = http_headers or loader.default_http_headers(length, record.content_type)


def _records(files: list[Path], positions: Mapping[Path, list[int]] | None
             ) -> Iterator[tuple[Path, ArchiveIterator, ArcWarcRecord]]:
    """Every record of ``files`` in order, or only those starting at ``positions`` (offsets in file order)."""
    for path in files:
        with path.open("rb") as handle:
            if positions is None:
                iterator = open_records(handle)
                for record in iterator:
                    yield path, iterator, record
                continue
            for offset in positions.get(path, ()):
                handle.seek(offset)
                iterator = open_records(handle)
                yield path, iterator, next(iter(iterator))


def iter_captures(paths: Iterable[str | os.PathLike[str]], *, want: Callable[[str], bool] | None = None,
                  max_body: int = DEFAULT_MAX_BODY,
                  positions: Mapping[Path, list[int]] | None = None) -> Iterator[Capture]:
    """Yield every response and revisit capture (of URLs ``want`` accepts) in file order.

    ``positions`` (a file's record offsets, e.g. from ``AttachmentIndex.build(..., want=want)``) reads only the
    records there, seeking past the others instead of reading through them.
    """
    by_id: dict[str, tuple[Path, int]] = {}
    by_uri_date: dict[tuple[str, str], tuple[Path, int]] = {}
    for path, iterator, record in _records(warc_files(paths), positions):
        if record.rec_type not in ("response", "revisit"):
            continue
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI") or ""
        if want is not None and not want(url):
            continue
        record_id = headers.get_header("WARC-Record-ID") or ""
        date = headers.get_header("WARC-Date") or ""
        load_http_headers(iterator, record)
        if record.rec_type == "response":
            raw = read_payload(record, max_body + 1)
            iterator.read_to_end(record)
            offset = iterator.get_record_offset()  # only valid once the record is read (warcio)
            by_id[record_id] = (path, offset)
            by_uri_date[(url, date)] = (path, offset)
            original = record
        else:
            raw, original = b"", None
            target = by_id.get(headers.get_header("WARC-Refers-To") or "")
            if target is None:
                key = (headers.get_header("WARC-Refers-To-Target-URI") or url,
                       headers.get_header("WARC-Refers-To-Date") or "")
                target = by_uri_date.get(key)
            iterator.read_to_end(record)
            offset = iterator.get_record_offset()
            if target is None:
                continue  # a revisit whose original is not in these files cannot be replayed
            raw, original_headers, status = _read_original(target, max_body)
        http = record.http_headers if original is not None else original_headers
        status_code = int(http.get_statuscode() or 0) if original is not None else status
        yield Capture(
            url=url, warc_date=date, status=status_code,
            headers=[(k, v) for k, v in http.headers], body=raw[:max_body],
            body_truncated=len(raw) > max_body,
            filename=path.name, offset=offset, length=iterator.get_record_length(),
            record_id=record_id, payload_digest=headers.get_header("WARC-Payload-Digest"),
            record_type=record.rec_type,
        )


def _read_original(target: tuple[Path, int], max_body: int) -> tuple[bytes, StatusAndHeaders, int]:
    path, offset = target
    with path.open("rb") as handle:
        handle.seek(offset)
        record = next(iter(ArchiveIterator(handle, ensure_http_headers=True)))
        body = read_payload(record, max_body + 1)
        return body, record.http_headers, int(record.http_headers.get_statuscode() or 0)
