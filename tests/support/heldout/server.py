"""Serve a :class:`model.Site` over real HTTP on 127.0.0.x (port 0): the portal host and its object store host.

Every request is logged (host, method, path, status), so a test can count hit-counter requests (each one would
inflate a real count) and list-endpoint requests. :class:`Behaviour` adds the hostile server habits: a cookie on
every answer, a refused over-long request head, ``Retry-After`` on chosen paths, and per-path overrides.
"""

from __future__ import annotations

import gzip
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import dataproxy, render_article, render_column
from .model import Site
from .render_common import COUNTER_PATHS

NOT_FOUND = ("<html><head><title>404</title></head><body><div class='error'>对不起，您访问的页面不存在或已被删除！"
             "</div></body></html>")
ART_PATH = re.compile(r"^/art/\d{4}/\d{1,2}/\d{1,2}/art_\d+_\d+\.html$")
COL_PATH = re.compile(r"^/col/col(\d+)/index\.html$")
PROXY_PATHS = ("/module/web/jpage/dataproxy.jsp", "/module/jpage/dataproxy.jsp",
               "/module/jslib/jquery/jpage/dataproxy.jsp")
TINY_JPEG = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffdb004300") + bytes(64) + b"\xff\xd9"

#: an override answers (status, headers, body) for a request, or None to fall through to the portal
Override = Callable[["Request"], "tuple[int, list[tuple[str, str]], bytes] | None"]


@dataclass
class Request:
    """One request as the server saw it."""

    role: str  # portal | asset
    method: str
    target: str  # path and query
    head_bytes: int
    body: bytes = b""
    status: int = 0

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def params(self) -> dict[str, str]:
        params = dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))
        if self.body:
            params.update(parse_qsl(self.body.decode("latin-1"), keep_blank_values=True))
        return params


@dataclass
class Behaviour:
    """Hostile habits layered on the portal."""

    cookie_flood: bool = False  # a new cookie (~150 bytes) on every answer
    head_limit: int = 0  # refuse request heads longer than this with 400 (nginx: 8 KiB); 0 = no limit
    retry_after: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (seconds, first N requests)
    overrides: dict[str, Override] = field(default_factory=dict)  # path -> override


class PortalApp:
    """Routes requests of both hosts to pages of the site and keeps the request log."""

    def __init__(self, site: Site, behaviour: Behaviour | None = None) -> None:
        self.site = site
        self.behaviour = behaviour or Behaviour()
        self.bases: dict[str, str] = {}
        self.log: list[Request] = []
        self.errors: list[str] = []  # exceptions of the fixture itself (a bug here, not in the crawler)
        self.lock = threading.Lock()
        self.serial = 0
        self.by_path = site.release_by_path()
        self.old_ids = {c.old_id: c for c in site.columns.values() if c.old_id}
        self.files = {(a.host, a.path): a for r in site.releases for a in r.attachments}

    def next_serial(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def record(self, request: Request) -> None:
        with self.lock:
            self.log.append(request)

    def counter_requests(self) -> list[Request]:
        """Requests to any hit counter (visit.jsp, articlehits.jsp, artcount.jsp), wherever the path put them."""
        return [r for r in self.log if r.path.endswith(COUNTER_PATHS)]

    def handle(self, request: Request, accept_gzip: bool) -> tuple[int, list[tuple[str, str]], bytes]:
        behaviour = self.behaviour
        if behaviour.head_limit and request.head_bytes > behaviour.head_limit:
            return 400, [("Content-Type", "text/html")], b"<html><body>400 Request Header Or Cookie Too Large</body>"
        override = behaviour.overrides.get(request.path)
        if override is not None:
            answer = override(request)
            if answer is not None:
                return answer
        if request.path in behaviour.retry_after:
            seconds, times = behaviour.retry_after[request.path]
            seen = sum(1 for r in self.log if r.path == request.path)
            if seen < times:
                return 503, [("Retry-After", str(seconds)), ("Content-Type", "text/html")], b"<html>busy</html>"
        status, headers, body = self.route(request)
        if accept_gzip and self.site.gzip and body and any(
                v.startswith(("text/", "application/xml")) for k, v in headers if k == "Content-Type"):
            body = gzip.compress(body, mtime=0)
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        return status, headers, body

    def route(self, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
        """The portal itself (no hostile habits)."""
        site, path = self.site, request.path
        html_type = f"text/html; charset={'GBK' if site.charset == 'gbk' else 'UTF-8'}"
        if request.role == "asset":
            attachment = self.files.get(("asset", request.target))
            if attachment is None:
                return 404, [("Content-Type", "application/xml")], b"<Error><Code>NoSuchKey</Code></Error>"
            return 200, [("Content-Type", attachment.content_type)], attachment.body
        if path.endswith(COUNTER_PATHS):
            return 200, [("Content-Type", "text/html")], f"document.write({100 + len(self.log)});".encode()
        if path == "/robots.txt":
            if site.robots == "allow":
                return 200, [("Content-Type", "text/plain")], b"User-agent: *\nDisallow:\n"
            return 404, [("Content-Type", "text/html")], NOT_FOUND.encode("utf-8")
        if path == "/" and site.home_redirect:
            return 302, [("Location", "/index.html"), ("Content-Type", "text/html")], b""
        if path in ("/", "/index.html"):
            return 200, [("Content-Type", html_type)], render_column.home_page(site, self.bases)
        match = COL_PATH.match(path)
        if match:
            return self._column(int(match.group(1)), request, html_type)
        if path in PROXY_PATHS:
            status, body, ctype = dataproxy.answer(site, path, request.params, self.bases)
            return status, [("Content-Type", ctype)], body
        release = self.by_path.get(path)
        if release is not None:
            ctype = "text/html"
            if release.style.charset_in_header:
                ctype += "; charset=" + ("GBK" if release.style.charset == "gbk" else "UTF-8")
            return 200, [("Content-Type", ctype)], render_article.render(release, site, self.bases)
        attachment = self.files.get(("portal", request.target))
        if attachment is not None:
            return 200, [("Content-Type", attachment.content_type),
                         ("Content-Disposition", "attachment; filename=" + attachment.path.rsplit("=", 1)[-1])], \
                attachment.body
        if path.startswith("/picture/"):
            return 200, [("Content-Type", "image/jpeg")], TINY_JPEG
        if path.endswith(".css"):
            return 200, [("Content-Type", "text/css")], b"body{font-size:12px}"
        if path.endswith(".js"):
            return 200, [("Content-Type", "application/javascript")], b"var pagecontrol=1;"
        if path.endswith(".png"):
            return 200, [("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n" + bytes(32)
        return 404, [("Content-Type", "text/html; charset=UTF-8")], NOT_FOUND.encode("utf-8")

    def _column(self, column_id: int, request: Request, html_type: str) -> tuple[int, list[tuple[str, str]], bytes]:
        site = self.site
        if column_id in self.old_ids:
            query = urlsplit(request.target).query
            return 302, [("Location", self.old_ids[column_id].path + (f"?{query}" if query else "")),
                         ("Content-Type", "text/html")], b""
        column = site.columns.get(column_id)
        if column is None:
            return 404, [("Content-Type", "text/html; charset=UTF-8")], NOT_FOUND.encode("utf-8")
        params = request.params
        uid = _int_or_none(params.get("uid"))
        page_num = _int_or_none(params.get("pageNum")) or 1
        body = render_column.column_page(site, column, self.bases, uid if site.api.pagenum else None,
                                         page_num if site.api.pagenum else 1, self.next_serial())
        return 200, [("Content-Type", html_type)], body


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _handler(app: PortalApp, role: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _serve(self, send_body: bool) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            head_bytes = len(self.raw_requestline) + len(bytes(self.headers))
            request = Request(role, self.command, self.path, head_bytes, body)
            try:
                status, headers, payload = app.handle(request, "gzip" in (self.headers.get("Accept-Encoding") or ""))
            except Exception as error:  # a fixture bug: answer 500 and let the tests say so
                app.errors.append(f"{self.command} {self.path}: {error!r}")
                status, headers, payload = 500, [("Content-Type", "text/plain")], b"fixture error"
            request.status = status
            app.record(request)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if app.behaviour.cookie_flood:
                serial = app.next_serial()
                self.send_header("Set-Cookie", f"JSESSIONID_{serial}={f'{serial:040x}' * 3}; Path=/")
            if status not in (204, 304):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if send_body and status not in (204, 304):
                self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve(True)

        def do_POST(self) -> None:
            self._serve(True)

        def do_HEAD(self) -> None:
            self._serve(False)

    return Handler


class PortalServer:
    """The portal host and the object-store host, each a threaded HTTP server on its own 127.0.0.x address."""

    def __init__(self, site: Site, portal_ip: str = "127.0.0.1", asset_ip: str = "127.0.0.2",
                 behaviour: Behaviour | None = None) -> None:
        self.app = PortalApp(site, behaviour)
        self.site = site
        self.portal_ip, self.asset_ip = portal_ip, asset_ip
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> PortalServer:
        for role, ip in (("portal", self.portal_ip), ("asset", self.asset_ip)):
            server = ThreadingHTTPServer((ip, 0), _handler(self.app, role))
            server.daemon_threads = True
            thread = threading.Thread(target=server.serve_forever, daemon=True, name=f"heldout-{role}")
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
            self.app.bases[role] = f"http://{ip}:{server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(5)

    @property
    def bases(self) -> dict[str, str]:
        return self.app.bases

    @property
    def base_url(self) -> str:
        return self.app.bases["portal"] + "/"

    def truth(self) -> list[dict[str, Any]]:
        """The truth rows, with the URLs of this run's ports."""
        return self.site.truth(self.bases)
