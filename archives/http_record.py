"""Rebuild the HTTP request and response blocks of one capture (no Scrapy imports).

Scrapy does not keep the bytes exchanged on the wire: header names come back title-cased, hop-by-hop
headers and the chunk framing are gone, and the reason phrase is lost. These builders therefore write a
*reconstruction* with consistent framing:

- the status line is built from the protocol and the code, with the standard reason phrase; an unknown code
  gets an empty reason (``HTTP/1.1 299 ``: the space after the code is required by RFC 9112);
- HTTP/2 responses are written as HTTP/1.1 text with an empty reason, and ``WARC-Protocol: h2`` is added to
  the WARC headers (iipc warc-http2 proposal);
- ``Transfer-Encoding`` is dropped (the body is de-chunked) and ``Content-Length`` is set to the number of
  bytes stored; ``Content-Encoding`` is kept, and the body stays compressed as received;
- non-ASCII octets in header values are percent-encoded byte by byte (``%E4%B8%AD``), so the block is ASCII
  and the original octets can be recovered exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders

TRUNCATED_REASONS = frozenset({"length", "time", "disconnect", "unspecified"})
DROPPED_HEADERS = frozenset({"transfer-encoding", "content-length"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NON_ASCII_OR_CTL = re.compile(rb"[^\x20-\x7e\t]")


@dataclass(slots=True)
class HttpExchange:
    """One HTTP request/response pair as the crawler saw it."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes
    protocol: str
    status: int
    response_headers: list[tuple[str, str]]
    body: bytes
    ip_address: str | None
    started_at: datetime
    truncated: str | None = None


def header_text(raw: bytes | str) -> str:
    """Return a header name/value as ASCII text: other octets and controls become ``%XX``."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    return _NON_ASCII_OR_CTL.sub(lambda m: f"%{m.group(0)[0]:02X}".encode(), raw).decode("ascii")


def ascii_uri(url: str) -> str:
    """Percent-encode any non-ASCII or space characters of a URL (RFC 3986 requires ASCII)."""
    return re.sub(r"[^\x21-\x7e]", lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), url)


def warc_date(moment: datetime) -> str:
    """Format a datetime as a WARC-Date (UTC, microseconds when present)."""
    if moment.tzinfo is None:
        raise ValueError("started_at must be timezone-aware (UTC)")
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def is_http2(protocol: str | None) -> bool:
    """True for the protocol strings Scrapy uses for HTTP/2 (``h2``, ``HTTP/2``, ``HTTP/2.0``)."""
    return (protocol or "").strip().lower() in {"h2", "http/2", "http/2.0"}


def status_line(protocol: str | None, status: int) -> tuple[str, str]:
    """Return ``(http_version, "code reason")`` for a response status line."""
    proto = (protocol or "").strip().upper()
    if is_http2(protocol):
        return "HTTP/1.1", f"{status} "
    version = proto if proto in {"HTTP/1.0", "HTTP/1.1"} else "HTTP/1.1"
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    return version, f"{status} {reason}"


def _framed(headers: list[tuple[str, str]], length: int | None) -> list[tuple[str, str]]:
    """Drop Transfer-Encoding/Content-Length and put one exact Content-Length where the first one was."""
    out: list[tuple[str, str]] = []
    placed = length is None
    for name, value in headers:
        lower = name.lower()
        if lower in DROPPED_HEADERS:
            if lower == "content-length" and not placed:
                out.append(("Content-Length", str(length)))
                placed = True
            continue
        out.append((header_text(name), header_text(value)))
    if not placed:
        out.append(("Content-Length", str(length)))
    return out


def response_http_headers(exchange: HttpExchange) -> StatusAndHeaders:
    """Build the response status line and headers with framing regenerated for the stored body."""
    version, line = status_line(exchange.protocol, exchange.status)
    headers = _framed(exchange.response_headers, len(exchange.body))
    return StatusAndHeaders(line, headers, protocol=version)


def request_target(url: str) -> str:
    """Return the origin-form request target (path and query, no fragment) of a URL."""
    without_fragment = url.split("#", 1)[0]
    parts = urlsplit(without_fragment)
    target = parts.path or "/"
    if "?" in without_fragment:
        target += "?" + parts.query
    return ascii_uri(target)


def host_header(url: str) -> str:
    """Return the Host header value for a URL (no userinfo, default port omitted)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    if parts.port is not None and _DEFAULT_PORTS.get(parts.scheme) == parts.port:
        host = host.rsplit(":", 1)[0]
    return ascii_uri(host)


def request_http_headers(exchange: HttpExchange) -> StatusAndHeaders:
    """Build the request line (``GET /path?query HTTP/1.1``) and headers, Host first."""
    given = [(n, v) for n, v in exchange.request_headers if n.lower() != "host"]
    host = next((v for n, v in exchange.request_headers if n.lower() == "host"), None)
    send_length = bool(exchange.request_body) or exchange.method.upper() in {"POST", "PUT", "PATCH"}
    headers = [("Host", header_text(host) if host else host_header(exchange.url))]
    headers += _framed(given, len(exchange.request_body) if send_length else None)
    line = f"{request_target(exchange.url)} HTTP/1.1"
    return StatusAndHeaders(line, headers, protocol=exchange.method.upper())


def truncated_reason(reason: str | None) -> str | None:
    """Map a truncation reason to a WARC-Truncated value (unknown reasons become ``unspecified``)."""
    if reason is None:
        return None
    return reason if reason in TRUNCATED_REASONS else "unspecified"
