"""An exact lookup of captured HTTP exchanges by method, URL and request body. No Scrapy imports.

pywb falls back to fuzzy matching and may answer a POST it never saw with another page's capture; this index
never does: a POST matches only the capture whose request record carries the very same body bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archives.pointer import WarcPointer
from archives.warc_reader import DEFAULT_MAX_BODY, read_payload, warc_files


def exchange_key(method: str, url: str, body: bytes = b"") -> tuple[str, str, str]:
    """The lookup key: upper-case method, URL as archived, sha1 of the request body ("" for an empty body)."""
    return method.upper(), url, hashlib.sha1(body).hexdigest() if body else ""


@dataclass(frozen=True)
class StoredResponse:
    """A response record found for a request: where it is and what it says."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    pointer: WarcPointer


class CaptureIndex:
    """Maps (method, URL, body digest) to the latest response record captured for it."""

    def __init__(self, paths: Iterable[str | os.PathLike[str]]) -> None:
        self._locations: dict[tuple[str, str, str], tuple[str, Path, int]] = {}
        self._build(warc_files(paths))

    def __len__(self) -> int:
        return len(self._locations)

    def _build(self, files: list[Path]) -> None:
        for path in files:
            requests: dict[str, tuple[str, str, str]] = {}
            responses: dict[str, tuple[str, int, str]] = {}
            with path.open("rb") as handle:
                iterator = ArchiveIterator(handle)
                for record in iterator:
                    headers = record.rec_headers
                    if record.rec_type == "request":
                        body = record.content_stream().read()
                        method = record.http_headers.protocol if record.http_headers else "GET"
                        key = exchange_key(method, headers.get_header("WARC-Target-URI") or "", body)
                        target = headers.get_header("WARC-Concurrent-To")
                        if target:
                            requests[target] = key
                    elif record.rec_type == "response":
                        iterator.read_to_end(record)
                        responses[headers.get_header("WARC-Record-ID") or ""] = (
                            headers.get_header("WARC-Date") or "", iterator.get_record_offset(),
                            headers.get_header("WARC-Target-URI") or "")
            for record_id, (date, offset, uri) in responses.items():
                key = requests.get(record_id, exchange_key("GET", uri))
                known = self._locations.get(key)
                if known is None or known[0] <= date:
                    self._locations[key] = (date, path, offset)

    def lookup(self, method: str, url: str, body: bytes = b"", max_body: int = DEFAULT_MAX_BODY,
               ) -> StoredResponse | None:
        """The stored response for exactly this request, or None."""
        found = self._locations.get(exchange_key(method, url, body))
        if found is None:
            return None
        _date, path, offset = found
        with path.open("rb") as handle:
            handle.seek(offset)
            iterator = ArchiveIterator(handle)
            record = next(iter(iterator))
            content = read_payload(record, max_body)
            http = record.http_headers
            iterator.read_to_end(record)
            headers = record.rec_headers
            pointer = WarcPointer(headers.get_header("WARC-Target-URI"), path.name, offset,
                                  iterator.get_record_length(), headers.get_header("WARC-Record-ID"),
                                  headers.get_header("WARC-Payload-Digest"), headers.get_header("WARC-Date"))
            return StoredResponse(url=url, status=int(http.get_statuscode() or 0),
                                  headers=list(http.headers), body=content, pointer=pointer)
