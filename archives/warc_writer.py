"""Rotating WARC/1.1 writer: `.open` files, warcinfo first, record pairs, fsync tracking (no Scrapy imports).

Every record is its own gzip member (WARC 1.1 Annex D) and a request/response pair is serialized in memory
and appended with one ``write`` loop, so a file never holds half a pair: on an ``OSError`` (disk full) the
file is cut back to where the pair began and :class:`WarcWriteError` is raised.

Files are named ``{prefix}-{timestamp17}-{serial:05d}-{crawlhost}.warc.gz`` (Annex C), created with
``O_CREAT | O_EXCL`` as ``NAME.open`` and renamed to ``NAME`` on close, when a ``sha256  NAME`` line is added
to ``manifest-sha256.txt``. The writer is meant for one thread (the Twisted reactor); a lock guards it anyway.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from warcio.warcwriter import WARCWriter
from zlib_ng import zlib_ng

from archives.errors import ArchiveError
from archives.fixity import append_fixity
from archives.http_record import (
    HttpExchange,
    ascii_uri,
    is_http2,
    request_http_headers,
    response_http_headers,
    truncated_reason,
    warc_date,
)
from archives.pointer import WarcPointer

OPEN_SUFFIX = ".open"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
WARC_VERSION = "WARC/1.1"
_PREFIX_RX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


# -- revisits ---------------------------------------------------------------------------------------------
def payload_digest(body: bytes) -> str:
    """``sha1:BASE32`` of an entity body, as warcio writes ``WARC-Payload-Digest``."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def revisit_profile(exchange: HttpExchange, original: Any) -> str | None:
    """The revisit profile for this exchange, or None for a full response record.

    A revisit needs the original in *original* (``WarcPointer.refers_to()`` of the archived capture; the recurring
    middleware sets it only when the original's WARC file exists); then a 304 is ``server-not-modified`` and a
    complete 200 whose payload digest equals the original's is ``identical-payload-digest``.
    """
    if not isinstance(original, dict) or not original.get("record_id") or exchange.truncated:
        return None
    if exchange.status == 304:
        return PROFILE_NOT_MODIFIED
    if exchange.status == 200 and original.get("payload_digest") == payload_digest(exchange.body):
        return PROFILE_IDENTICAL
    return None


class WarcWriteError(ArchiveError):
    """Writing to a WARC file failed; records written before the failure are intact."""

    def __init__(self, filename: str, err: OSError, action: str = "write") -> None:
        self.filename = filename
        self.errno = err.errno
        code = errno.errorcode.get(err.errno or 0, str(err.errno))
        super().__init__(f"WARC {action} failed on {filename}: [{code}] {err.strerror or err}")


class _RecordBuilder(WARCWriter):  # type: ignore[misc]  # warcio is untyped
    """warcio writer that also keeps ``WARC-Payload-Digest`` off metadata records (spec 5.9)."""

    NO_PAYLOAD_DIGEST_TYPES = ("warcinfo", "revisit", "metadata")


def sanitize_crawlhost(host: str) -> str:
    """Keep ``[A-Za-z0-9.~-]`` of a host name (other characters become ``-``); ``~`` joins a worker id and its host,
    as Heritrix's ``{pid}~{host}~{port}`` does (the queue workers, docs/scaleout.md)."""
    cleaned = re.sub(r"[^A-Za-z0-9.~-]+", "-", host).strip(".~-")
    return cleaned or "localhost"


def timestamp17(moment: datetime | None = None) -> str:
    """Return ``YYYYmmddHHMMSSmmm`` in UTC."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _field_value(value: Any) -> str:
    """One-line text for an application/warc-fields value (dicts and lists become JSON)."""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return re.sub(r"[\r\n]+", " ", value)


#: Deflate level of each record's gzip member. warcio compresses at 9; 6 (the zlib and gzip(1) default) took 0.52 ms
#: instead of 0.73 ms for a 30 KB release page here, for output 0.5% larger (docs/benchmarks.md).
GZIP_LEVEL = 6


_SERIALIZERS = threading.local()


def _serializer() -> _RecordBuilder:
    """This thread's uncompressed record writer (warcio's writer asks the OS for the host name when it is built:
    one per record cost 0.5% of a crawl's CPU)."""
    writer = getattr(_SERIALIZERS, "writer", None)
    if writer is None:
        writer = _SERIALIZERS.writer = _RecordBuilder(None, gzip=False, warc_version=WARC_VERSION)
    return writer


def _serialize(record: Any) -> bytes:
    """Return one record as one gzip member (warcio writes the record, zlib-ng deflates it at `GZIP_LEVEL`).

    zlib-ng (python-zlib-ng, zlib's API) writes the same gzip format as zlib in about two thirds of its time at the
    same level, for members about 1% larger (docs/benchmarks.md, issue 15 round 4); every reader reads them.
    """
    buf = BytesIO()
    writer = _serializer()
    writer.out = buf
    writer.write_record(record)
    writer.out = None
    compressor = zlib_ng.compressobj(GZIP_LEVEL, zlib_ng.DEFLATED, zlib_ng.MAX_WBITS + 16)
    return compressor.compress(buf.getvalue()) + compressor.flush()


def _capture_fields(exchange: HttpExchange) -> tuple[str, str, dict[str, str]]:
    """WARC-Date, the ASCII target URI, and the fields every record of one capture shares."""
    date = warc_date(exchange.started_at)
    common: dict[str, str] = {"WARC-Date": date}
    if exchange.ip_address:
        common["WARC-IP-Address"] = exchange.ip_address
    if is_http2(exchange.protocol):
        common["WARC-Protocol"] = "h2"
    return date, ascii_uri(exchange.url), common


class RotatingWarcWriter:
    """Append WARC records to size-rotated `.open` files; see the module docstring."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        prefix: str,
        max_size: int,
        warcinfo_fields: Mapping[str, Any],
        crawlhost: str | None = None,
        fsync_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not _PREFIX_RX.match(prefix):
            raise ValueError(f"WARC prefix {prefix!r} may only use letters, digits, '.', '_' and '-'")
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}")
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        self.warcinfo_fields = dict(warcinfo_fields)
        self.crawlhost = sanitize_crawlhost(crawlhost if crawlhost is not None else socket.gethostname())
        self.fsync_interval = fsync_interval
        self._clock = clock
        self._builder = _RecordBuilder(None, gzip=True, warc_version=WARC_VERSION)
        self._lock = threading.RLock()
        self._serial = 0
        self._fd: int | None = None
        self._name: str | None = None  # final name of the current file
        self._size = 0
        self._records = 0  # records after warcinfo in the current file
        self._warcinfo_id: str | None = None
        self._next_warcinfo_id: str = self._builder._make_warc_id()
        self._synced: tuple[str, int] | None = None
        self._durable: set[str] = set()
        self._last_sync = clock()
        self.closed_files: list[str] = []

    # -- state ------------------------------------------------------------------------------------

    @property
    def current_filename(self) -> str | None:
        """Final name of the file being written (it is on disk as ``NAME.open``)."""
        return self._name

    @property
    def synced_upto(self) -> tuple[str, int] | None:
        """``(filename, offset)`` of the current file up to which data has been fsynced."""
        return self._synced

    def is_durable(self, filename: str, end_offset: int) -> bool:
        """True when bytes ``[0, end_offset)`` of *filename* are known to be on stable storage."""
        if filename in self._durable:
            return True
        return self._synced is not None and self._synced[0] == filename and end_offset <= self._synced[1]

    def pointer_is_durable(self, pointer: Mapping[str, Any]) -> bool:
        """`is_durable` for a pointer dict (``filename``, ``offset``, ``length``)."""
        return self.is_durable(str(pointer["filename"]), int(pointer["offset"]) + int(pointer["length"]))

    # -- writing ----------------------------------------------------------------------------------

    def write_exchange(self, exchange: HttpExchange) -> WarcPointer:
        """Write ``response`` then ``request`` (same WARC-Date, linked); return the response pointer."""
        with self._lock:
            date, uri, common = _capture_fields(exchange)
            resp_fields = dict(common)
            truncated = truncated_reason(exchange.truncated)
            if truncated:
                resp_fields["WARC-Truncated"] = truncated
            resp_id = self._builder._make_warc_id()
            req_id = self._builder._make_warc_id()
            digest: list[str | None] = [None]

            def build(warcinfo_id: str) -> bytes:
                info = {"WARC-Warcinfo-ID": warcinfo_id}
                response = self._builder.create_warc_record(
                    uri,
                    "response",
                    payload=BytesIO(exchange.body),
                    length=len(exchange.body),
                    http_headers=response_http_headers(exchange),
                    warc_headers_dict={"WARC-Record-ID": resp_id, **resp_fields, **info},
                )
                request = self._request_record(exchange, uri, req_id, {**common, "WARC-Concurrent-To": resp_id, **info})
                digest[0] = response.rec_headers.get_header("WARC-Payload-Digest")
                resp_bytes = _serialize(response)
                resp_len[0] = len(resp_bytes)
                return resp_bytes + _serialize(request)

            resp_len = [0]
            offset = self._place(build)
            return WarcPointer(uri, self._name or "", offset, resp_len[0], resp_id, digest[0], date)

    def write_revisit(self, exchange: HttpExchange, refers_to: Mapping[str, Any], profile: str) -> WarcPointer:
        """Write a ``revisit`` (with its ``request``) for *exchange*, pointing at the original capture.

        *profile* is `PROFILE_IDENTICAL` (a 200 whose payload digest equals the original's: HTTP headers kept,
        body left out, ``WARC-Truncated: length``) or `PROFILE_NOT_MODIFIED` (a 304: its headers are the block).
        *refers_to* holds the original's ``record_id``, ``url``, ``date`` (optional) and ``payload_digest``,
        which the revisit carries as ``WARC-Payload-Digest``. The caller makes sure the original is archived.
        """
        if profile not in (PROFILE_IDENTICAL, PROFILE_NOT_MODIFIED):
            raise ValueError(f"unknown revisit profile {profile!r}")
        with self._lock:
            date, uri, common = _capture_fields(exchange)
            refers = {"WARC-Profile": profile, "WARC-Refers-To": str(refers_to["record_id"]),
                      "WARC-Refers-To-Target-URI": ascii_uri(str(refers_to["url"]))}
            if refers_to.get("date"):
                refers["WARC-Refers-To-Date"] = str(refers_to["date"])
            digest = refers_to.get("payload_digest")
            if digest:
                refers["WARC-Payload-Digest"] = str(digest)
            if profile == PROFILE_IDENTICAL:
                refers["WARC-Truncated"] = "length"
            rev_id = self._builder._make_warc_id()
            req_id = self._builder._make_warc_id()
            rev_len = [0]

            def build(warcinfo_id: str) -> bytes:
                info = {"WARC-Warcinfo-ID": warcinfo_id}
                revisit = self._builder.create_warc_record(
                    uri, "revisit", payload=BytesIO(b""), length=0, http_headers=response_http_headers(exchange),
                    warc_headers_dict={"WARC-Record-ID": rev_id, **common, **refers, **info},
                )
                request = self._request_record(exchange, uri, req_id, {**common, "WARC-Concurrent-To": rev_id, **info})
                rev_bytes = _serialize(revisit)
                rev_len[0] = len(rev_bytes)
                return rev_bytes + _serialize(request)

            offset = self._place(build)
            return WarcPointer(uri, self._name or "", offset, rev_len[0], rev_id, str(digest) if digest else None,
                               date)

    def _request_record(self, exchange: HttpExchange, uri: str, record_id: str, fields: dict[str, str]) -> Any:
        """The ``request`` record of a capture (body kept, e.g. a POSTed form), linked by ``fields``."""
        return self._builder.create_warc_record(
            uri, "request", payload=BytesIO(exchange.request_body), length=len(exchange.request_body),
            http_headers=request_http_headers(exchange), warc_headers_dict={"WARC-Record-ID": record_id, **fields})

    def write_resource(
        self,
        uri: str,
        payload: bytes | IO[bytes],
        content_type: str,
        length: int | None = None,
        warc_headers: Mapping[str, str] | None = None,
    ) -> WarcPointer:
        """Write a ``resource`` record (e.g. the crawl log under a ``urn:`` Target-URI)."""
        stream = BytesIO(payload) if isinstance(payload, bytes) else payload
        if length is None:
            length = len(payload) if isinstance(payload, bytes) else None
        return self._write_single(uri, "resource", stream, length, content_type, warc_headers)

    def write_metadata(
        self,
        target_uri: str,
        fields: Mapping[str, Any],
        concurrent_to: str | None = None,
    ) -> WarcPointer:
        """Write a ``metadata`` record (application/warc-fields) about *target_uri*."""
        body = "".join(f"{name}: {_field_value(value)}\r\n" for name, value in fields.items()).encode()
        extra = {"WARC-Concurrent-To": concurrent_to} if concurrent_to else {}
        return self._write_single(
            target_uri, "metadata", BytesIO(body), len(body), "application/warc-fields", extra
        )

    def _write_single(
        self,
        uri: str,
        rec_type: str,
        stream: IO[bytes],
        length: int | None,
        content_type: str,
        warc_headers: Mapping[str, str] | None,
    ) -> WarcPointer:
        with self._lock:
            rec_id = self._builder._make_warc_id()
            start = stream.tell()
            digest: list[str | None] = [None]

            def build(warcinfo_id: str) -> bytes:
                stream.seek(start)
                fields = {
                    "WARC-Record-ID": rec_id,
                    "WARC-Date": self._builder.curr_warc_date(),
                    "WARC-Warcinfo-ID": warcinfo_id,
                    **(warc_headers or {}),
                }
                record = self._builder.create_warc_record(
                    ascii_uri(uri),
                    rec_type,
                    payload=stream,
                    length=length,
                    warc_content_type=content_type,
                    warc_headers_dict=fields,
                )
                digest[0] = record.rec_headers.get_header("WARC-Payload-Digest")
                return _serialize(record)

            offset = self._place(build)
            length_written = self._size - offset
            return WarcPointer(ascii_uri(uri), self._name or "", offset, length_written, rec_id, digest[0])

    # -- durability -------------------------------------------------------------------------------

    def sync(self) -> None:
        """Flush and fsync the current file; afterwards every pointer handed out so far is durable."""
        with self._lock:
            if self._fd is not None and self._name is not None:
                try:
                    os.fsync(self._fd)
                except OSError as exc:
                    raise WarcWriteError(self._name + OPEN_SUFFIX, exc, "fsync") from exc
                self._synced = (self._name, self._size)
            self._last_sync = self._clock()

    def fsync_if_due(self) -> bool:
        """`sync` when ``fsync_interval`` seconds passed since the last one; return whether it did."""
        if self._clock() - self._last_sync < self.fsync_interval:
            return False
        self.sync()
        return True

    def close(self) -> list[str]:
        """Sync, close and rename the current file, record its fixity; return all closed file names."""
        with self._lock:
            self._close_current()
            return list(self.closed_files)

    # -- files ------------------------------------------------------------------------------------

    def _place(self, build: Callable[[str], bytes]) -> int:
        """Build records for the file they will land in, rotating first if needed; append; return offset.

        A non-empty file is rotated when the new bytes would take it past ``max_size``, so a record pair is
        never split and a single oversized pair still goes somewhere.
        """
        current = self._warcinfo_id if self._fd is not None else None  # set whenever a file is open
        data = build(current or self._next_warcinfo_id)
        if self._fd is not None and self._records > 0 and self._size + len(data) > self.max_size:
            self._close_current()
            data = build(self._next_warcinfo_id)
        if self._fd is None:
            self._open_new()
        return self._append(data)

    def _open_new(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = timestamp17()
        while True:
            name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.crawlhost}.warc.gz"
            self._serial += 1
            if (self.directory / name).exists():
                continue
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
                fd = os.open(self.directory / (name + OPEN_SUFFIX), flags, 0o644)
            except FileExistsError:
                continue
            except OSError as exc:
                raise WarcWriteError(name + OPEN_SUFFIX, exc, "create") from exc
            # Held until close: `crawler recover` never touches a `.open` file someone holds.
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        self._fd, self._name, self._size, self._records = fd, name, 0, 0
        self._synced = (name, 0)
        info = self._builder.create_warcinfo_record(
            name, {key: _field_value(value) for key, value in self.warcinfo_fields.items()}
        )
        info.rec_headers.replace_header("WARC-Record-ID", self._next_warcinfo_id)
        self._warcinfo_id, self._next_warcinfo_id = self._next_warcinfo_id, self._builder._make_warc_id()
        try:
            self._append(_serialize(info), count=False)
        except WarcWriteError:
            os.close(fd)
            (self.directory / (name + OPEN_SUFFIX)).unlink(missing_ok=True)
            self._fd = self._name = self._synced = self._warcinfo_id = None
            raise

    def _append(self, data: bytes, count: bool = True) -> int:
        """Append *data* at the end of the current file; roll back on error. Return its offset."""
        assert self._fd is not None and self._name is not None
        start = self._size
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            try:
                os.ftruncate(self._fd, start)
                os.lseek(self._fd, start, os.SEEK_SET)
            except OSError as trunc_exc:
                raise WarcWriteError(self._name + OPEN_SUFFIX, exc, "write (and rollback)") from trunc_exc
            raise WarcWriteError(self._name + OPEN_SUFFIX, exc) from exc
        self._size = start + len(data)
        if count:
            self._records += 1
        return start

    def _close_current(self) -> None:
        if self._fd is None or self._name is None:
            return
        name, fd = self._name, self._fd
        try:
            os.fsync(fd)
        except OSError as exc:
            raise WarcWriteError(name + OPEN_SUFFIX, exc, "fsync") from exc
        finally:
            os.close(fd)
            self._fd = None
        self._rename(name)
        self._durable.add(name)
        self.closed_files.append(name)
        self._name = self._synced = self._warcinfo_id = None
        append_fixity(self.directory, self.directory / name)

    def _rename(self, name: str) -> None:
        """Rename ``NAME.open`` to ``NAME`` without ever replacing an existing file, then fsync the dir."""
        src, dst = self.directory / (name + OPEN_SUFFIX), self.directory / name
        try:
            os.link(src, dst)  # fails with FileExistsError instead of overwriting
            os.unlink(src)
        except FileExistsError as exc:
            raise WarcWriteError(name, exc, "rename (target exists)") from exc
        except OSError:
            if dst.exists():
                raise
            os.rename(src, dst)  # filesystems without hard links
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def __enter__(self) -> RotatingWarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
