"""Attachment fields from WARC files alone (no Scrapy): what replay needs to fill a row as the live crawl did.

The live crawl lists an archived attachment as ``{content_type, size, payload_digest, warc}`` taken from its first
200 response (after redirects), and a skipped one from its skip record (``archives.skip_records``). This index
reads the same from the records: one pass over the files keeps, per URL, the first response record (status,
``Location``, Content-Type, pointer) and the first skip record; the decoded size is read only for URLs looked up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from warcio.archiveiterator import ArchiveIterator

from archives.fast_reader import ScannedRecord, decoded_size, http_headers
from archives.pointer import WarcPointer
from archives.skip_records import parse_warc_fields, skip_fields
from archives.warc_reader import load_http_headers, open_records, payload_size, warc_files

#: Redirect hops followed from a linked URL to the file (Scrapy's REDIRECT_MAX_TIMES is 20; CMSs use one).
MAX_HOPS = 10


def archived_fields(content_type: str | None, size: int, pointer: WarcPointer | None) -> dict[str, Any]:
    """Row fields of an archived attachment; ``size`` is the decoded body's length in bytes."""
    return {"content_type": content_type, "size": size,
            "payload_digest": pointer.payload_digest if pointer else None, "warc": pointer.row() if pointer else None,
            "skip_reason": None}


class ResponseInfo:
    """The first response record of a URL, as the index keeps it.

    Its HTTP fields (status, ``Location``, Content-Type) are given, or, for a record FastWARC's scan found without
    reading its HTTP headers (``archives.replay_scan``), read from the record the first time one is asked for.
    """

    __slots__ = ("_http", "path", "pointer", "scanned")

    def __init__(self, path: Path, pointer: WarcPointer, http: tuple[int, str | None, str | None] | None = None,
                 scanned: ScannedRecord | None = None) -> None:
        if http is None and scanned is None:
            raise ValueError("a ResponseInfo needs its HTTP fields or the scanned record to read them from")
        self.path = path
        self.pointer = pointer
        #: the record as FastWARC's scan saw it (to read its size, and its HTTP fields when not given); None: warcio
        self.scanned = scanned
        self._http = http

    def _fields(self) -> tuple[int, str | None, str | None]:
        if self._http is None:
            assert self.scanned is not None
            self._http = http_fields(http_headers(self.path, self.scanned))
        return self._http

    @property
    def status(self) -> int:
        """The HTTP status code (0 when the record has none)."""
        return self._fields()[0]

    @property
    def location(self) -> str | None:
        """The ``Location`` header."""
        return self._fields()[1]

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header."""
        return self._fields()[2]


def http_fields(http: Any) -> tuple[int, str | None, str | None]:
    """Status, ``Location`` and Content-Type of warcio's parsed HTTP headers, as the index keeps them."""
    return int(http.get_statuscode() or 0), http.get_header("Location"), http.get_header("Content-Type")


class AttachmentIndex:
    """URL -> attachment fields, from the response and skip records of a set of WARC files."""

    def __init__(self) -> None:
        self.responses: dict[str, ResponseInfo] = {}
        self.skips: dict[str, dict[str, Any]] = {}
        self._sizes: dict[str, int] = {}
        #: per file, the offsets of the response and revisit records whose URL ``build``'s ``want`` accepts
        self.positions: dict[Path, list[int]] = {}

    @classmethod
    def build(cls, paths: Iterable[str | os.PathLike[str]],
              want: Callable[[str], bool] | None = None) -> AttachmentIndex:
        """Index every response and skip record of ``paths`` (files or directories).

        With ``want``, also note in ``positions`` where the response and revisit records of the URLs it accepts
        start, so that ``iter_captures`` can read just those instead of the files a second time.
        """
        index = cls()
        for path in warc_files(paths):
            noted = index.positions.setdefault(path, []) if want is not None else []
            with path.open("rb") as handle:
                iterator = open_records(handle)  # HTTP headers parsed only for the responses kept
                for record in iterator:
                    kind = record.rec_type
                    url = record.rec_headers.get_header("WARC-Target-URI") or ""
                    if kind == "response" and url not in index.responses:
                        load_http_headers(iterator, record)
                    block = record.content_stream().read(65536) if kind == "metadata" else b""
                    iterator.read_to_end(record)
                    if want is not None and kind in ("response", "revisit") and want(url):
                        noted.append(iterator.get_record_offset())
                    if kind == "metadata":
                        found = skip_fields(parse_warc_fields(block))
                        if found is not None:
                            index.skips.setdefault(url, found)
                    elif kind == "response" and url not in index.responses:
                        http = record.http_headers
                        pointer = WarcPointer(url, path.name, iterator.get_record_offset(),
                                              iterator.get_record_length(),
                                              record.rec_headers.get_header("WARC-Record-ID"),
                                              record.rec_headers.get_header("WARC-Payload-Digest"))
                        index.responses[url] = ResponseInfo(path, pointer, http_fields(http))
        return index

    def _size(self, url: str, found: ResponseInfo) -> int:
        if url not in self._sizes and found.scanned is not None:
            self._sizes[url] = decoded_size(found.path, found.scanned)
        if url not in self._sizes:
            with found.path.open("rb") as handle:
                handle.seek(found.pointer.offset)
                record = next(iter(ArchiveIterator(handle, ensure_http_headers=True)))
                self._sizes[url] = payload_size(record)
        return self._sizes[url]

    def lookup(self, url: str) -> dict[str, Any] | None:
        """The row fields of the attachment linked as *url*, or None when the WARCs say nothing about it."""
        target = url
        for _ in range(MAX_HOPS + 1):
            found = self.responses.get(target)
            if found is None:
                break
            if 300 <= found.status < 400 and found.location:
                target = urljoin(target, found.location)
                continue
            if found.status == 200:
                return archived_fields(found.content_type, self._size(target, found), found.pointer)
            break
        skipped = self.skips.get(url)
        return dict(skipped) if skipped is not None else None

    def fill(self, attachments: list[dict[str, Any]] | None) -> None:
        """Fill the fetch fields of a row's attachments in place."""
        for attachment in attachments or []:
            found = self.lookup(attachment["url"])
            if found is not None:
                attachment.update(found)
