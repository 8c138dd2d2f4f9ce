"""A loopback HTTP server that misbehaves on purpose, byte by byte (RELIABILITY.md section 2).

Plain sockets and one thread per connection, so a handler can send anything: malformed status lines, broken
chunking, a Content-Length that lies, non-ASCII header bytes, a reset in the middle of a body, or nothing at all.
It runs in a thread of the pytest process and is reachable from crawl subprocesses.

    with FaultServer() as fs:
        fs.route("/drip", drip(b"x" * 100, delay=1.0))
        url = fs.url("/drip")
        ...
        assert fs.hits("/drip") == 3

Handlers get ``(request, conn, hit)`` (``hit`` counts from 0 for that path) and return True to keep the
connection open for another request (keep-alive), anything else closes it.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

MAX_HEAD = 4 * 1024 * 1024


@dataclass
class Request:
    """One request as received: the request line split up, headers as raw byte pairs, the body."""

    method: str
    target: str
    version: str
    headers: list[tuple[bytes, bytes]]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive), latin-1 decoded."""
        wanted = name.lower().encode()
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == wanted), None)


class Conn:
    """The accepted socket, with the few moves handlers need."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Handler = Callable[[Request, Conn, int], "bool | None"]


class FaultServer:
    """Scripted byte-level HTTP behaviours per path on ``host`` (127.0.0.1 by default), with hit counts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, default: Handler | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.ssl_context = ssl_context
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._routes: dict[str, Handler] = {}
        self._default = default or respond(404, b"not found", [("Content-Type", "text/plain")])
        self._lock = threading.Lock()
        self._requests: dict[str, list[Request]] = defaultdict(list)
        self._conns: set[socket.socket] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"faultserver-{host}", daemon=True)
        self.connections = 0

    # -- set-up ----------------------------------------------------------------------------------------

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, handler: Handler) -> str:
        """Serve ``path`` (query ignored when matching; a trailing ``*`` matches a prefix) with ``handler``."""
        self._routes[urlsplit(path).path] = handler
        return self.url(path.rstrip("*"))

    # -- what was seen ---------------------------------------------------------------------------------

    def requests(self, path: str | None = None) -> list[Request]:
        """Requests received for ``path`` (a trailing ``*`` matches a prefix), or all of them."""
        with self._lock:
            if path is None:
                return [r for reqs in self._requests.values() for r in reqs]
            if path.endswith("*"):
                return [r for p, reqs in self._requests.items() if p.startswith(path[:-1]) for r in reqs]
            return list(self._requests.get(urlsplit(path).path, []))

    def hits(self, path: str | None = None) -> int:
        return len(self.requests(path))

    def hit_times(self, path: str) -> list[float]:
        return [r.received_at for r in self.requests(path)]

    # -- serving ---------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for sock in conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _prefix_handler(self, path: str) -> Handler:
        """A route ending in ``*`` serves every path it prefixes (the longest prefix wins)."""
        prefixes = [p for p in self._routes if p.endswith("*") and path.startswith(p[:-1])]
        return self._routes[max(prefixes, key=len)] if prefixes else self._default

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with self._lock:
                self._conns.add(sock)
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def _handle(self, sock: socket.socket) -> None:
        buffer = b""
        try:
            if self.ssl_context is not None:
                sock.settimeout(10)
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
            conn = Conn(sock)
            while not self._stop.is_set():
                request, buffer = _read_request(sock, buffer)
                if request is None:
                    return
                with self._lock:
                    seen = self._requests[request.path]
                    hit = len(seen)
                    seen.append(request)
                handler = self._routes.get(request.path) or self._prefix_handler(request.path)
                if handler(request, conn, hit) is not True:
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            with self._lock:
                self._conns.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()


def _read_request(sock: socket.socket, buffer: bytes) -> tuple[Request | None, bytes]:
    """Read one request (head + Content-Length body) from ``sock``; None when the peer closed."""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > MAX_HEAD:
            return None, b""
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    method, target, version = ([*parts, "", "", ""])[:3]
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(b":") for line in lines[1:])]
    length = next((int(v) for k, v in headers if k.lower() == b"content-length" and v.isdigit()), 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(method, target, version, headers, rest[:length]), rest[length:]


# -- building responses ----------------------------------------------------------------------------------

HeaderList = Sequence[tuple[str | bytes, str | bytes]]


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


def head_bytes(status: int | bytes = 200, headers: HeaderList = (), reason: str | bytes | None = None,
               version: bytes = b"HTTP/1.1") -> bytes:
    """A status line and header block; ``status`` as bytes is used verbatim as the whole status line."""
    if isinstance(status, bytes):
        line = status
    else:
        from http import HTTPStatus

        if reason is None:
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Unknown"
        line = version + b" " + str(status).encode() + (b" " + _b(reason) if reason != b"" else b"")
    return line + b"\r\n" + b"".join(_b(k) + b": " + _b(v) + b"\r\n" for k, v in headers) + b"\r\n"


def respond(status: int | bytes = 200, body: bytes = b"", headers: HeaderList = (), *,
            reason: str | bytes | None = None, content_length: int | bool | None = True,
            keep_alive: bool = False, version: bytes = b"HTTP/1.1") -> Handler:
    """A well-formed (or, with ``content_length=N``, lying) response; ``content_length=False`` sends none."""
    extra: list[tuple[str | bytes, str | bytes]] = list(headers)
    if content_length is True:
        extra.append(("Content-Length", str(len(body))))
    elif content_length is not False and content_length is not None:
        extra.append(("Content-Length", str(content_length)))
    if not keep_alive:
        extra.append(("Connection", "close"))
    data = head_bytes(status, extra, reason, version) + body

    def handler(request: Request, conn: Conn, hit: int) -> bool:
        conn.send(data if request.method != "HEAD" else data[: len(data) - len(body)])
        return keep_alive

    return handler


def html_page(text: str, *, charset: str = "utf-8", title: str = "测试页面", head_extra: str = "") -> bytes:
    """A small release-like HTML page (for the test spider's release items)."""
    return (f"<html><head><meta charset=\"{charset}\"><title>{title}</title>{head_extra}</head><body>"
            f"<div class=\"title\">{title}</div><div id=\"zoom\"><p>{text}</p></div></body></html>"
            ).encode(charset if charset != "utf-8" else "utf-8", "xmlcharrefreplace")


def raw(data: bytes, *, reset: bool = False) -> Handler:
    """Send ``data`` verbatim, then close (or reset)."""

    def handler(request: Request, conn: Conn, hit: int) -> None:
        conn.send(data)
        if reset:
            conn.reset()

    return handler


def close_without_reply() -> Handler:
    """Accept the request and close the connection without sending a byte."""

    def handler(request: Request, conn: Conn, hit: int) -> None:
        return None

    return handler


def hang(seconds: float) -> Handler:
    """Accept and say nothing for ``seconds``, then close."""

    def handler(request: Request, conn: Conn, hit: int) -> None:
        time.sleep(seconds)

    return handler


def drip(body: bytes, delay: float, headers: HeaderList = (), step: int = 1) -> Handler:
    """A valid Content-Length, then ``step`` bytes every ``delay`` seconds (a slow-loris server)."""

    def handler(request: Request, conn: Conn, hit: int) -> None:
        conn.send(head_bytes(200, [*headers, ("Content-Length", str(len(body))), ("Connection", "close")]))
        for i in range(0, len(body), step):
            conn.send(body[i : i + step])
            time.sleep(delay)

    return handler


def reset_mid_body(declared: int, body: bytes, headers: HeaderList = ()) -> Handler:
    """Declare ``declared`` bytes, send ``body`` (fewer), then RST."""

    def handler(request: Request, conn: Conn, hit: int) -> None:
        conn.send(head_bytes(200, [*headers, ("Content-Length", str(declared))]) + body)
        time.sleep(0.05)
        conn.reset()

    return handler


def chunked(chunks: Iterable[bytes], headers: HeaderList = (), *, extensions: bool = False,
            trailers: HeaderList = (), terminate: bool = True, bad_size_at: int | None = None,
            content_length: int | None = None) -> Handler:
    """A chunked body; optionally with chunk extensions, trailers, no final chunk, or a bad hex size."""
    parts = list(chunks)

    def handler(request: Request, conn: Conn, hit: int) -> None:
        extra: list[tuple[str | bytes, str | bytes]] = [*headers, ("Transfer-Encoding", "chunked")]
        if content_length is not None:
            extra.append(("Content-Length", str(content_length)))
        out = [head_bytes(200, [*extra, ("Connection", "close")])]
        for i, chunk in enumerate(parts):
            size = b"zz" if i == bad_size_at else f"{len(chunk):x}".encode()
            out.append(size + (b";name=value" if extensions else b"") + b"\r\n" + chunk + b"\r\n")
        if terminate:
            out.append(b"0\r\n" + b"".join(_b(k) + b": " + _b(v) + b"\r\n" for k, v in trailers) + b"\r\n")
        conn.send(b"".join(out))
        if not terminate:
            time.sleep(0.05)
            conn.reset()

    return handler


def sequence(*handlers: Handler) -> Handler:
    """Hit n is served by ``handlers[n]`` (the last one serves every later hit)."""

    def handler(request: Request, conn: Conn, hit: int) -> bool | None:
        return handlers[min(hit, len(handlers) - 1)](request, conn, hit)

    return handler


def redirect(location: str | bytes, status: int = 302) -> Handler:
    """A redirect; ``location`` as bytes goes on the wire as is (raw UTF-8, say)."""
    return respond(status, b"", [("Location", location)])


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


class SentinelServer(FaultServer):
    """A server on 127.0.0.3 that answers everything with 200 and counts hits: scope tests assert zero."""

    def __init__(self, host: str = "127.0.0.3") -> None:
        super().__init__(host, default=respond(200, b"sentinel", [("Content-Type", "text/plain")]))


_release_serial = iter(range(1000, 10**9))


def release_path(name: str = "") -> str:
    """A fresh Hanweb release path (``/art/2024/1/1/art_1_N.html``), so the test spider makes a release item of it.

    ``name`` is only a readable tag in the query string; routes match on the path.
    """
    return f"/art/2024/1/1/art_1_{next(_release_serial)}.html" + (f"?case={name}" if name else "")


def self_signed_context(tmp_dir: str, *, expired: bool = True) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (expired by default)."""
    import datetime as dt
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    start, end = (now - dt.timedelta(days=30), now - dt.timedelta(days=1)) if expired else (now, now + dt.timedelta(1))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = Path(tmp_dir) / "cert.pem", Path(tmp_dir) / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context
