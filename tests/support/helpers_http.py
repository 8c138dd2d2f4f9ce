"""Test helpers: a loopback HTTP fixture server and WARC reading/validation utilities."""

from __future__ import annotations

import base64
import gzip
import hashlib
import random
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

VENV_BIN = Path(sys.executable).parent

GZIP_HTML = "<html><head><title>压缩页面</title></head><body><p>政务公开 gzip</p></body></html>".encode()
GZIP_BODY = gzip.compress(GZIP_HTML, mtime=0)
CHUNKS = [b"<html><body><p>", "分块传输".encode(), b"</p>", b"x" * 5000, b"</body></html>"]
CHUNKED_BODY = b"".join(CHUNKS)
COOKIES = ["a=1; Path=/", "b=2; Path=/", "c=3; HttpOnly"]
LARGE_BODY = random.Random(7).randbytes(512 * 1024)  # incompressible: the gzip member stays ~512 KiB


def sha1_b32(data: bytes) -> str:
    """WARC-style payload digest."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    posted: list[tuple[str, bytes]] = []

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
        self.send_response(status)
        for name, value in headers or []:
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        html = [("Content-Type", "text/html; charset=utf-8")]
        if path == "/gzip":
            self._send(200, GZIP_BODY, [*html, ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")])
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, chunk in enumerate(CHUNKS):
                ext = ";ext=1" if i == 1 else ""
                self.wfile.write(f"{len(chunk):x}{ext}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/cookies":
            headers = [*html, *(("Set-Cookie", c) for c in COOKIES)]
            headers += [("Link", "</a.css>; rel=preload"), ("Link", "</b.js>; rel=preload")]
            self._send(200, b"<html><body>cookies</body></html>", headers)
        elif path == "/redirect":
            self._send(302, b"", [("Location", "/target?x=1")])
        elif path == "/target":
            self._send(200, b"<html><body>target</body></html>", html)
        elif path == "/nocontent":
            self._send(204, b"")
        elif path == "/large":
            self._send(200, LARGE_BODY, [("Content-Type", "application/octet-stream")])
        else:
            self._send(404, b"not found", [("Content-Type", "text/plain")])

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).posted.append((self.path, body))
        self._send(200, b"<html><body>posted " + body + b"</body></html>", [("Content-Type", "text/html")])


@contextmanager
def fixture_server() -> Iterator[str]:
    """Serve the fixture pages on 127.0.0.1:<random port>; yield the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def run_warcio(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real ``warcio`` CLI of this venv."""
    return subprocess.run([str(VENV_BIN / "warcio"), *args], capture_output=True, text=True, timeout=120)


def assert_warcio_valid(*paths: Path) -> None:
    """``warcio check -v`` and ``warcio index`` exit 0 with an empty stderr and no failed digest."""
    check = run_warcio("check", "-v", *map(str, paths))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stderr == "", check.stderr
    assert "fail" not in check.stdout.lower(), check.stdout
    index = run_warcio("index", "-f", "warc-type,warc-target-uri,content-length,offset", *map(str, paths))
    assert index.returncode == 0, index.stderr
    assert index.stderr == "", index.stderr


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record of a file as a dict: type, headers, http headers, raw payload, offset, length."""
    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            raw = record.raw_stream.read()
            out.append(
                {
                    "type": record.rec_type,
                    "rec": record.rec_headers,
                    "http": record.http_headers,
                    "raw": raw,
                    "offset": it.get_record_offset(),
                }
            )
    return out


def read_member(path: Path, offset: int, length: int) -> dict[str, Any]:
    """Decompress exactly ``[offset, offset+length)`` as one gzip member and parse its single record."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read(length)
    inflater = zlib.decompressobj(wbits=31)
    inflater.decompress(data)
    assert inflater.eof and inflater.unused_data == b"", "range is not exactly one gzip member"
    records = []
    for record in ArchiveIterator(BytesIO(data)):
        records.append(
            {
                "type": record.rec_type,
                "rec": record.rec_headers,
                "http": record.http_headers,
                "raw": record.raw_stream.read(),
            }
        )
    assert len(records) == 1
    return records[0]
