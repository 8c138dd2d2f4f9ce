"""Twisted web server for the simulated portal, and `main(argv)` (`python -m simulator`).

The reactor is imported only inside `serve()`, so importing this module never installs a reactor (Scrapy's
tests in the same process choose their own). Every request is counted by kind; hit-counter and `/private/`
requests are counted separately because an archival crawl must make none of them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import re
import sys
import urllib.parse
from collections import Counter
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from twisted.web import resource, server

from simulator import page_variants, templates
from simulator.list_variants import NEW_PROXY, OLD_PROXY, SIDE_RECORDS, SIDE_UNIT_OFFSET
from simulator.mutations import MutationError
from simulator.portal import (
    ASSET_ATTACH_PREFIX,
    COLUMNS_BY_ID,
    PER_PAGE,
    Column,
    Release,
    SimulatedPortal,
)

COUNTER_PATHS = frozenset(
    {
        "/module/visitcount/visit.jsp",
        "/module/visitcount/articlehits.jsp",
        "/vc/vc/interface/artcount/artcount.jsp",
        "/vc/vc/interface/visit.jsp",
    }
)
PROXY_PATHS = frozenset({NEW_PROXY, OLD_PROXY})
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
CONTENT_TYPES = {
    "utf-8": "text/html; charset=UTF-8",
    "gbk-as-gb2312": "text/html; charset=gb2312",
    "gbk-meta-only": "text/html",
}
DOWNLOAD_TYPES = {"pdf": "application/pdf", "doc": "application/msword", "xls": "application/vnd.ms-excel"}
_COL_PATH = re.compile(r"^/col/col(\d+)(/index\.html|/|)$")
_FILENAME = re.compile(r"^[0-9a-f]{32}\.(pdf|doc|xls)$")
CHUNK_PIECES = 4
#: Attachments whose name's second hex digit is 0 (1 in 16) are this large or a little larger: over the limits the
#: tests set, under the crawler's default. Half of them are sent chunked (no Content-Length to refuse them by).
LARGE_ATTACHMENT_SIZE = 300_000
#: Site-wide page requisites every page loads (docs/simulator.md); body images are /picture/0/{id}.jpg.
STATIC_TYPES = {".css": "text/css", ".js": "application/javascript", ".png": "image/png", ".jpg": "image/jpeg"}
STATIC_PATHS = frozenset({
    "/script/page.css", "/images/1/hanweb.css", "/images/1/css.css", "/module/jslib/jquery/jquery.js",
    "/images/1/qh_js.js", "/script/pagecontrol.js", "/module/jpage/jpage.js", "/images/1/jiucuo.js",
    "/images/1/logo.png", "/images/1/dzjg.png", "/jcms_files/jcms1/web1/site/script/1/share.js",
})
_PICTURE = re.compile(r"^/picture/0/\d{1,20}\.jpg$")


def format_http_date(moment: dt.datetime) -> str:
    """An HTTP-date (IMF-fixdate) for an aware UTC datetime."""
    return format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0), usegmt=True)


def parse_http_date(text: str) -> dt.datetime | None:
    """An HTTP-date as an aware UTC datetime, or None when it does not parse."""
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class BadRequest(Exception):
    """Malformed dataproxy parameters (answered with 400)."""


class SideList(Exception):
    """A request for a side list's later pages (``--vary``): answered with an empty list."""


def _int(params: dict[str, list[str]], name: str) -> int:
    try:
        return int(params[name][0])
    except (KeyError, IndexError, ValueError) as exc:
        raise BadRequest(f"missing or malformed {name}") from exc


def encode_release(release: Release, text: str) -> bytes:
    """The page bytes in the release's charset variant (GBK for both GBK variants)."""
    if release.page is not None:
        return text.encode(page_variants.codec(release.page.charset))
    return text.encode("utf-8" if release.charset == "utf-8" else "gbk")


def release_content_type(release: Release) -> str:
    """The Content-Type header of a release page."""
    if release.page is not None:
        return page_variants.CONTENT_TYPES[release.page.charset]
    return CONTENT_TYPES[release.charset]


def fake_attachment(filename: str) -> bytes:
    """A small deterministic stand-in for an attachment file."""
    digest = hashlib.sha256(filename.encode()).hexdigest()
    if filename.endswith(".pdf"):
        return (
            b"%PDF-1.4\n% simulated attachment "
            + filename.encode()
            + b"\n1 0 obj << /Type /Catalog >> endobj\n"
            + digest.encode()
            + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"
        )
    return (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"simulated attachment "
        + filename.encode()
        + b"\n"
        + digest.encode()
    )


def is_large_attachment(filename: str) -> bool:
    """The attachments served larger than the test limits (decided by the stored file name)."""
    return filename[1] == "0"


def attachment_body(filename: str) -> bytes:
    """The bytes served for an attachment: `fake_attachment`, padded past LARGE_ATTACHMENT_SIZE for large ones."""
    body = fake_attachment(filename)
    if not is_large_attachment(filename):
        return body
    block = hashlib.sha256(filename.encode()).digest() * 64
    size = LARGE_ATTACHMENT_SIZE + int(filename[2:5], 16)
    return (body + block * (size // len(block) + 1))[:size]


def static_body(path: str) -> bytes:
    """Deterministic bytes for a page requisite, shaped like its type."""
    digest = hashlib.sha256(path.encode()).hexdigest().encode()
    if path.endswith(".css"):
        return b"/* simulated stylesheet " + path.encode() + b" */\nbody { margin: 0; }\n.c" + digest + b" {}\n"
    if path.endswith(".js"):
        return b"/* simulated script " + path.encode() + b" */\nvar h = '" + digest + b"';\n"
    if path.endswith(".png"):
        return b"\x89PNG\r\n\x1a\n" + digest
    return b"\xff\xd8\xff\xe0" + digest + b"\xff\xd9"


class PortalResource(resource.Resource):
    """One leaf resource routing every path of docs/simulator.md."""

    isLeaf = True

    def __init__(self, portal: SimulatedPortal, default_host: str) -> None:
        super().__init__()
        self.portal = portal
        self.default_host = default_host
        #: host:port of the asset host (the object store), or "" when everything is on the portal host.
        self.asset_host = ""
        self.requests: Counter[str] = Counter()
        self.counter_hits = 0
        self.private_hits = 0

    # -- helpers -------------------------------------------------------------------------------------------

    def _host(self, request: server.Request) -> str:
        host = request.getHeader("host")
        return host if host and re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", host) else self.default_host

    @staticmethod
    def _send(request: server.Request, body: bytes, content_type: str, status: int = 200) -> bytes:
        request.setResponseCode(status)
        request.setHeader(b"content-type", content_type.encode())
        request.setHeader(b"content-length", str(len(body)).encode())
        return body

    def _not_found(self, request: server.Request) -> bytes:
        self.requests["not_found"] += 1
        body = b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>"
        return self._send(request, body, "text/html; charset=UTF-8", 404)

    def stats(self) -> dict[str, Any]:
        """The `/__sim__/stats` document."""
        return {
            "counter_hits": self.counter_hits,
            "private_hits": self.private_hits,
            "requests": dict(sorted(self.requests.items())),
        }

    # -- dispatch ------------------------------------------------------------------------------------------

    def render_GET(self, request: server.Request) -> bytes | int:
        return self._route(request)

    def render_POST(self, request: server.Request) -> bytes | int:
        return self._route(request)

    def render_HEAD(self, request: server.Request) -> bytes | int:
        return self._route(request)

    def _route(self, request: server.Request) -> bytes | int:
        path = urllib.parse.unquote(request.path.decode("latin-1"))
        query = urllib.parse.parse_qs(
            urllib.parse.urlsplit(request.uri.decode("latin-1")).query, keep_blank_values=True
        )
        method = request.method.decode("latin-1")
        try:
            self.portal.refresh()
        except MutationError as exc:
            return self._send(request, str(exc).encode(), "text/plain; charset=UTF-8", 500)
        if path == "/__sim__/stats":
            return self._send(request, json.dumps(self.stats()).encode(), "application/json")
        if path in COUNTER_PATHS:
            return self._counter(request, path, query)
        if path.startswith("/private/"):
            self.private_hits += 1
            self.requests["private"] += 1
            return self._send(
                request, b"<html><body><p>internal</p></body></html>", "text/html; charset=UTF-8"
            )
        if method == "POST" and path not in PROXY_PATHS:
            self.requests["bad_method"] += 1
            return self._send(request, b"method not allowed", "text/plain", 405)
        if path == "/robots.txt":
            self.requests["robots"] += 1
            return self._send(request, ROBOTS, "text/plain")
        if path in ("/", "/index.html"):
            self.requests["home"] += 1
            page = templates.home_page(self.portal, self._host(request)).encode("utf-8")
            return self._send(request, page, "text/html; charset=UTF-8")
        if path in PROXY_PATHS:
            return self._dataproxy(request, path, method, query)
        if path.startswith("/col/"):
            return self._column(request, path)
        if path.startswith("/art/"):
            return self._release(request, path)
        if path == "/module/download/downfile.jsp":
            return self._download(request, query)
        if path.startswith("/jcms_files/") and self.asset_host and self._host(request) != self.asset_host:
            return self._not_found(request)  # the object store's paths exist on the asset host only
        if path.startswith(ASSET_ATTACH_PREFIX):
            return self._stored_file(request, path.removeprefix(ASSET_ATTACH_PREFIX))
        if path in STATIC_PATHS or _PICTURE.match(path):
            self.requests["requisite"] += 1
            return self._send(request, static_body(path), STATIC_TYPES[path[path.rindex("."):]])
        return self._not_found(request)

    # -- handlers ------------------------------------------------------------------------------------------

    def _counter(self, request: server.Request, path: str, query: dict[str, list[str]]) -> bytes:
        self.counter_hits += 1
        self.requests["counter"] += 1
        if path.endswith("visit.jsp"):
            return self._send(request, b"<html><body></body></html>", "text/html; charset=UTF-8")
        artid = (query.get("artid") or query.get("i_articleid") or ["0"])[0]
        count = int(hashlib.md5(artid.encode()).hexdigest()[:4], 16) % 5000
        return self._send(request, f"document.write({count});".encode(), "application/javascript")

    def _column(self, request: server.Request, path: str) -> bytes:
        m = _COL_PATH.match(path)
        column = COLUMNS_BY_ID.get(int(m.group(1))) if m else None
        if column is None or m is None:
            return self._not_found(request)
        if m.group(2) != "/index.html":
            self.requests["redirect"] += 1
            request.setResponseCode(302)
            request.setHeader(b"location", column.path.encode())
            return self._send(request, b"", "text/html; charset=UTF-8", 302)
        self.requests["column"] += 1
        page = templates.column_page(self.portal, column, self._host(request)).encode("utf-8")
        return self._send(request, page, "text/html; charset=UTF-8")

    def _dataproxy(
        self, request: server.Request, path: str, method: str, query: dict[str, list[str]]
    ) -> bytes:
        try:
            if method == "POST":
                content = request.content
                assert content is not None
                content.seek(0)
                form = urllib.parse.parse_qs(
                    content.read().decode("utf-8", "replace"), keep_blank_values=True
                )
                column = self._proxy_column(form, path, "post")
                start, end, per_page = (
                    _int(query, "startrecord"),
                    _int(query, "endrecord"),
                    _int(query, "perpage"),
                )
                if start < 1 or end < start or per_page < 1:
                    raise BadRequest("bad record range")
                first, stop = start - 1, min(end, self.portal.column_total(column))
            else:
                column = self._proxy_column(query, path, "get")
                page, per_page = _int(query, "page"), PER_PAGE
                if page < 1:
                    raise BadRequest("bad page")
                first, stop = (page - 1) * per_page, page * per_page
        except SideList:  # --vary: a side list shows its few records on the page; its later pages are empty
            self.requests["dataproxy"] += 1
            xml = (f'<?xml version="1.0" encoding="utf-8"?><datastore><totalrecord>{SIDE_RECORDS}</totalrecord>'
                   "<totalpage>1</totalpage><recordset></recordset></datastore>")
            return self._send(request, xml.encode("utf-8"), "text/xml;charset=UTF-8")
        except BadRequest as exc:
            self.requests["bad_request"] += 1
            return self._send(request, str(exc).encode(), "text/plain; charset=UTF-8", 400)
        except LookupError:
            return self._not_found(request)
        self.requests["dataproxy"] += 1
        xml = templates.dataproxy_xml(self.portal, column, first, stop, per_page, self._host(request))
        return self._send(request, xml.encode("utf-8"), "text/xml;charset=UTF-8")

    def _proxy_column(self, params: dict[str, list[str]], path: str, style: str) -> Column:
        column = COLUMNS_BY_ID.get(_int(params, "columnid"))
        if column is None:
            raise BadRequest("unknown columnid")
        unit = _int(params, "unitid")
        variant = self.portal.list_variant(column)
        if variant is not None:  # --vary: the forms and the path the column's list variant answers
            if variant.proxy != path:
                raise LookupError(path)
            if unit == column.unitid + SIDE_UNIT_OFFSET:
                raise SideList(column)
            if unit != column.unitid:
                raise BadRequest("unknown unitid")
            if not (variant.answers_post if style == "post" else variant.answers_get):
                raise BadRequest(f"this column's list is not fetched with {style.upper()}")
            return column
        if unit != column.unitid:
            raise BadRequest("unknown unitid")
        if column.proxy != path:
            raise LookupError(path)
        if column.style != style and style == "get":
            # every column page declares a jpage call, so every column answers the POST a browser makes for it;
            # the GET page=N form only where the column's <nextgroup> names it
            raise BadRequest(f"this column's list is fetched with {column.style.upper()}")
        return column

    def _release(self, request: server.Request, path: str) -> bytes | int:
        release = self.portal.find(path)
        if release is None:
            return self._removed(request, path) or self._not_found(request)
        self.requests["release"] += 1  # every answer to a release URL, 304s included (see release_not_modified)
        page = templates.release_page(self.portal, release, self._host(request), self.asset_host or None)
        body = encode_release(release, page)
        request.setHeader(b"content-type", release_content_type(release).encode())
        if release.transport == "gzip":
            request.setHeader(b"vary", b"Accept-Encoding")
            accept = (request.getHeader("accept-encoding") or "").lower()
            if "gzip" in accept:
                request.setHeader(b"content-encoding", b"gzip")
                body = gzip.compress(body, mtime=0)
        if self._not_modified(request, release, body):
            return b""
        if (
            release.transport == "chunked"
            and request.clientproto == b"HTTP/1.1"
            and request.method != b"HEAD"
        ):
            size = -(-len(body) // CHUNK_PIECES)
            for k in range(0, len(body), size):
                request.write(body[k : k + size])
            request.finish()
            return server.NOT_DONE_YET
        request.setHeader(b"content-length", str(len(body)).encode())
        return body

    # -- recurring crawls: validators, 304, removed releases ----------------------------------------------------

    def _not_modified(self, request: server.Request, release: Release, body: bytes) -> bool:
        """Set ETag and Last-Modified; answer 304 (True) when the request's validators match.

        If-None-Match wins over If-Modified-Since when both are sent (RFC 9110, 13.2.2). With the mutation
        ``"validators": false`` the server behaves like one without validators: no headers, always 200.
        """
        if not self.portal.mutations.validators:
            return False
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        modified = self.portal.last_modified(release)
        request.setHeader(b"etag", etag.encode())
        request.setHeader(b"last-modified", format_http_date(modified).encode())
        if_none_match = request.getHeader("if-none-match")
        if_modified_since = request.getHeader("if-modified-since")
        if if_none_match is not None or if_modified_since is not None:
            self.requests["release_conditional"] += 1
        if if_none_match is not None:
            match = if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]
        elif if_modified_since is not None:
            since = parse_http_date(if_modified_since)
            match = since is not None and modified.replace(microsecond=0) <= since
        else:
            match = False
        if match:
            self.requests["release_not_modified"] += 1
            request.setResponseCode(304)
            for name in (b"content-type", b"content-encoding", b"content-length"):
                request.responseHeaders.removeHeader(name)
        return match

    def _removed(self, request: server.Request, path: str) -> bytes | None:
        """The answer to a release a mutation deleted (404 or 410), else None."""
        m = re.search(r"art_\d+_(\d+)\.html$", path)
        if not m or not self.portal.is_deleted(int(m.group(1))):
            return None
        self.requests["removed"] += 1
        body = b"<html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>"
        return self._send(request, body, "text/html; charset=UTF-8", self.portal.mutations.gone_status)

    def _download(self, request: server.Request, query: dict[str, list[str]]) -> bytes | int:
        filename = (query.get("filename") or [""])[0]
        m = _FILENAME.match(filename)
        if not m:
            return self._not_found(request)
        self.requests["download"] += 1
        request.setHeader(b"content-disposition", f'attachment; filename="{filename}"'.encode())
        return self._file(request, filename, DOWNLOAD_TYPES[m.group(1)])

    def _stored_file(self, request: server.Request, filename: str) -> bytes | int:
        m = _FILENAME.match(filename)
        if not m:
            return self._not_found(request)
        self.requests["asset_download"] += 1
        return self._file(request, filename, DOWNLOAD_TYPES[m.group(1)])

    def _file(self, request: server.Request, filename: str, content_type: str) -> bytes | int:
        body = attachment_body(filename)
        if is_large_attachment(filename) and int(filename[2], 16) % 2 and request.method != b"HEAD":
            request.setHeader(b"content-type", content_type.encode())
            for k in range(0, len(body), 65536):
                request.write(body[k : k + 65536])
            request.finish()
            return server.NOT_DONE_YET
        return self._send(request, body, content_type)


def build_site(portal: SimulatedPortal, default_host: str) -> server.Site:
    """The Twisted site serving `portal` (no access log)."""
    site = server.Site(PortalResource(portal, default_host))
    site.log = lambda request: None  # type: ignore[method-assign]
    return site


def write_truth(portal: SimulatedPortal, path: str, base_url: str, asset_base_url: str | None = None) -> int:
    """Write one JSON line per release (streamed from `portal.iter_truth`); returns the count."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for row in portal.iter_truth(base_url, asset_base_url):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def serve(portal: SimulatedPortal, host: str, port: int, asset_host: str = "") -> None:
    """Listen on host:port (and asset_host:port), print `listening on http://HOST:PORT/` (flushed), run the reactor.

    The asset host is a second address of the same server (127.0.0.2 is loopback on Linux): the portal's object
    store. The line after the listening line says `asset host http://ASSET:PORT/` (or `asset host none`).
    """
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner

    def errors_to_stderr(event: dict[str, Any]) -> None:
        if event.get("log_failure") is not None or event.get("isError"):
            failure = event.get("log_failure")
            print(failure.getTraceback() if failure is not None else event, file=sys.stderr, flush=True)

    globalLogBeginner.beginLoggingTo([errors_to_stderr], redirectStandardIO=False)
    resource_host = f"{host}:{port}"
    site = build_site(portal, resource_host)
    listening = reactor.listenTCP(port, site, interface=host)
    bound = listening.getHost().port
    site.resource.default_host = f"{host}:{bound}"
    if asset_host:
        reactor.listenTCP(bound, site, interface=asset_host)
        site.resource.asset_host = f"{asset_host}:{bound}"
    print(f"listening on http://{host}:{bound}/", flush=True)
    print(f"asset host http://{asset_host}:{bound}/" if asset_host else "asset host none", flush=True)
    reactor.run()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="crawler simulate", description="Serve the simulated Hanweb portal."
    )
    parser.add_argument("--port", type=int, default=8000, help="TCP port (0: pick a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--releases", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vary", type=int, default=None, metavar="SEED",
                        help="draw the templates from the space of real variants with this seed "
                             "(simulator/variation.py); default: the classic portal")
    parser.add_argument("--truth", default=None, help="write the true fields as JSONL to this file and exit")
    parser.add_argument("--mutations", default=None, metavar="FILE.json",
                        help="changes between crawl runs, re-read when the file changes (docs/simulator.md)")
    parser.add_argument("--base-url", default=None, help="base of the truth URLs (default http://HOST:PORT)")
    parser.add_argument("--asset-host", default="127.0.0.2",
                        help="second loopback address serving the object store ('' = none; default 127.0.0.2)")
    parser.add_argument("--asset-base-url", default=None,
                        help="base of the asset-host truth URLs (default: --base-url with the asset host)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """`python -m simulator --port P --releases N [--seed S] [--vary V] [--host H] [--truth FILE]`."""
    args = parse_args(argv)
    portal = SimulatedPortal(args.releases, args.seed, mutations_file=args.mutations, vary=args.vary)
    if args.truth:
        base = args.base_url or f"http://{args.host}:{args.port}"
        asset_base = args.asset_base_url
        if asset_base is None and args.asset_host:
            parts = urllib.parse.urlsplit(base)
            netloc = args.asset_host + (f":{parts.port}" if parts.port else "")
            asset_base = urllib.parse.urlunsplit((parts.scheme, netloc, "", "", ""))
        count = write_truth(portal, args.truth, base, asset_base)
        print(f"wrote {count} truth rows to {args.truth}", flush=True)
        return 0
    serve(portal, args.host, args.port, args.asset_host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
