"""Replay's one FastWARC pass over its WARC files, and reading a capture it found (no Scrapy).

:func:`scan` reads every record's WARC headers once and returns what replay needs before it extracts anything:
the attachment index (``AttachmentIndex.build``'s result) and, in file order, a :class:`CaptureRef` for every
response and revisit record of a wanted URL, with its HTTP status and, for a revisit, the original whose body it
replays (found as ``iter_captures`` finds it). The HTTP headers of the URLs ``headers_later`` accepts are not
parsed by the scan: their references carry no status (:func:`read_capture` reads it with the capture) and their
index entries read their fields when looked up (replay leaves those of release pages to the worker that reads the
page: a fifth of the scan's time, which runs before any worker starts). :func:`read_capture` turns a reference
into the very :class:`~archives.warc_reader.Capture` ``iter_captures`` yields, reading one gzip member; it runs
wherever the capture is extracted (a worker process, with ``--jobs N``), so the reading process only scans.

A file FastWARC cannot frame as warcio does raises :class:`~archives.fast_reader.NotFramed`; replay then reads
everything with warcio (``AttachmentIndex.build`` and ``iter_captures``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from archives.attachment_index import AttachmentIndex, ResponseInfo, http_fields
from archives.fast_reader import ScannedRecord, http_record, read_head, read_record, scan_file
from archives.pointer import WarcPointer
from archives.skip_records import parse_warc_fields, skip_fields
from archives.warc_reader import DEFAULT_MAX_BODY, Capture, read_payload, warc_files

#: Bytes of a metadata record's block read for its skip fields (as ``AttachmentIndex.build`` reads).
METADATA_BYTES = 65536


@dataclass(frozen=True, slots=True)
class Source:
    """The response record whose block a capture reads (its own, or a revisit's original)."""

    path: Path
    record: ScannedRecord


@dataclass(frozen=True, slots=True)
class CaptureRef:
    """A wanted response or revisit record, found by :func:`scan`; :func:`read_capture` reads it."""

    url: str
    warc_date: str
    #: the HTTP status; None when the scan left the headers to :func:`read_capture`
    status: int | None
    filename: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None
    record_type: str
    source: Source


@dataclass(slots=True)
class _Seen:
    """What the scan took from a record while it was current."""

    http: Any = None  # warcio's HTTP headers of a response whose headers are needed
    skip: dict[str, Any] | None = None
    wanted: bool = False


def _http(scanned: ScannedRecord, reader: Any) -> Any:
    head, complete = read_head(reader)
    record = http_record(scanned, head, ensure_http_headers=True, complete=complete)
    if record is None:  # the headers run past the first bytes read: parse the whole block
        record = http_record(scanned, head + bytes(reader.read()), ensure_http_headers=True)
    assert record is not None  # complete: parsed or raised
    return record.http_headers  # not the record: its stream holds the bytes read


def _never(url: str) -> bool:
    return False


def scan(paths: Iterable[str | os.PathLike[str]], want: Callable[[str], bool],
         headers_later: Callable[[str], bool] = _never) -> tuple[AttachmentIndex, list[CaptureRef]]:
    """The attachment index of ``paths`` and the wanted captures in file order (see the module docstring)."""
    index = AttachmentIndex()
    refs: list[CaptureRef] = []
    by_id: dict[str, tuple[Source, int | None]] = {}
    by_uri_date: dict[tuple[str, str], tuple[Source, int | None]] = {}
    first_seen: set[str] = set()

    def inspect(scanned: ScannedRecord, reader: Any) -> _Seen | None:
        kind, url = scanned.kind, scanned.url
        if kind == "metadata":
            return _Seen(skip=skip_fields(parse_warc_fields(bytes(reader.read(METADATA_BYTES)))))
        if kind not in ("response", "revisit"):
            return None
        wanted = want(url)
        if kind == "revisit":
            return _Seen(wanted=wanted)
        first = url not in first_seen
        first_seen.add(url)
        later = headers_later(url)
        return _Seen(http=_http(scanned, reader) if (first or wanted) and not later else None, wanted=wanted)

    for path in warc_files(paths):
        for scanned in scan_file(path, inspect):
            kind, url, seen = scanned.kind, scanned.url, scanned.seen
            scanned.seen = None  # the index and the references keep the record: not what was read of it
            http = None if seen is None or seen.http is None else http_fields(seen.http)
            if kind == "metadata":
                if seen.skip is not None:
                    index.skips.setdefault(url, seen.skip)
            elif kind == "response" and url not in index.responses:
                # a record without a WARC-Record-ID gives None here, as warcio's get_header does
                pointer = WarcPointer(url, path.name, scanned.offset, scanned.length, cast(str, scanned.record_id),
                                      scanned.payload_digest)
                index.responses[url] = ResponseInfo(path, pointer, http, scanned)
            if seen is None or not seen.wanted:
                continue
            record_id, date = scanned.record_id or "", scanned.date or ""
            if kind == "response":
                record_type, status = "response", None if http is None else http[0]
                source = Source(path, scanned)
                by_id[record_id] = by_uri_date[(url, date)] = (source, status)
            else:
                target = by_id.get(scanned.refers_to or "")
                if target is None:
                    target = by_uri_date.get((scanned.refers_to_uri or url, scanned.refers_to_date or ""))
                if target is None:
                    continue  # a revisit whose original is not in these files cannot be replayed
                record_type, (source, status) = "revisit", target
            refs.append(CaptureRef(url, date, status, path.name, scanned.offset, scanned.length, record_id,
                                   scanned.payload_digest, record_type, source))
    return index, refs


def read_capture(ref: CaptureRef, max_body: int = DEFAULT_MAX_BODY) -> Capture:
    """The capture ``ref`` names, equal to the one ``iter_captures`` yields for that record."""
    record = read_record(ref.source.path, ref.source.record)
    raw = read_payload(record, max_body + 1)
    http = record.http_headers
    return Capture(url=ref.url, warc_date=ref.warc_date, status=int(http.get_statuscode() or 0),
                   headers=[(k, v) for k, v in http.headers], body=raw[:max_body],
                   body_truncated=len(raw) > max_body, filename=ref.filename, offset=ref.offset, length=ref.length,
                   record_id=ref.record_id, payload_digest=ref.payload_digest, record_type=ref.record_type)
