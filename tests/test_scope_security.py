"""Security and scope (RELIABILITY.md 2.7, cases 46-54): real crawls of loopback fault servers, in subprocesses.

Every crawl runs the project's settings (IP policy, robots policy, redirect and failure middlewares, WARC capture)
and ends with the archive invariants. The sentinel on 127.0.0.3 is never allowed by ARCHIVER_ALLOWED_IPS, so any
hit on it is a scope escape.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import os
import re
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.fetch.ip_policy import IpPolicy, IpPolicyError
from tests.support.fault_crawl import FaultCrawl, run_fault_crawl
from tests.support.faultserver import FaultServer, SentinelServer, html_page, redirect, release_path, respond, sequence
from tests.support.invariants import assert_archive_invariants

HTML = [("Content-Type", "text/html; charset=utf-8")]


def warc_records(crawl: FaultCrawl, rec_type: str = "response") -> list[tuple[str, Any]]:
    """(WARC-Target-URI, record headers + http headers + body) of every record of a type, in file order."""
    found = []
    for path in crawl.warc_files:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == rec_type:
                    body = record.raw_stream.read() if rec_type == "response" else b""  # as stored, not decoded
                    found.append((record.rec_headers.get_header("WARC-Target-URI"),
                                  (record.rec_headers, record.http_headers, body)))
    return found


def statuses(crawl: FaultCrawl) -> dict[str, int]:
    return {uri: int(rec[1].get_statuscode()) for uri, rec in warc_records(crawl)}


def reasons(crawl: FaultCrawl) -> dict[str, str]:
    return {row["url"]: row["reason"] for row in crawl.failures}


@pytest.fixture
def fs():
    with FaultServer() as server:
        yield server


@pytest.fixture
def sentinel():
    with SentinelServer() as server:
        yield server


# -- 46 redirect off-site ------------------------------------------------------------------------------------

def test_46_offsite_redirect_recorded_not_followed(tmp_path: Path, fs: FaultServer, sentinel: SentinelServer) -> None:
    fs.route("/", redirect(sentinel.url("/stolen")))
    fs.route("/other", redirect("http://www.elsewhere.gov.cn/x"))
    crawl = run_fault_crawl(tmp_path / "out", start_url=fs.url("/") + "," + fs.url("/other"), spider="hanweb")
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert sentinel.hits() == 0
    assert statuses(crawl) == {fs.url("/"): 302, fs.url("/other"): 302}  # the 302s themselves are archived
    assert reasons(crawl) == {sentinel.url("/stolen"): "offsite_redirect",
                              "http://www.elsewhere.gov.cn/x": "offsite_redirect"}
    assert_archive_invariants(crawl.out_dir)


# -- 47 redirect to another scheme ---------------------------------------------------------------------------

def test_47_redirect_to_other_schemes_not_followed(tmp_path: Path, fs: FaultServer) -> None:
    targets = {"/file": "file:///etc/passwd", "/data": "data:text/html,<h1>x</h1>", "/ftp": "ftp://127.0.0.1:21/x",
               "/s3": "s3://bucket/key"}
    urls = [fs.route(path, redirect(target)) for path, target in targets.items()]
    crawl = run_fault_crawl(tmp_path / "out", urls=urls)
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert statuses(crawl) == dict.fromkeys(urls, 302)  # recorded as 3xx only
    for uri, _ in warc_records(crawl, "request"):
        assert uri.startswith("http://"), uri  # nothing fetched from file:, data:, ftp:, s3:
    assert set(reasons(crawl).values()) == {"redirect_scheme"} and len(crawl.failures) == 4
    everything = b"".join(p.read_bytes() for p in crawl.out_dir.rglob("*") if p.is_file())
    assert b"root:x:0:0" not in everything and b"root:x:0:0" not in gzip.decompress(
        b"".join(p.read_bytes() for p in crawl.warc_files))
    assert_archive_invariants(crawl.out_dir)


# -- 48 private and special IPs ------------------------------------------------------------------------------

REFUSED = ["10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
           "0.1.2.3", "127.0.0.1", "127.0.0.3", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::",
           "fc00::1", "fd12:3456::1", "fe80::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "2002:a00:1::1",
           "64:ff9b::a00:1", "ff02::1"]


@pytest.mark.parametrize("address", REFUSED)
def test_48_ip_policy_refuses_special_ranges(address: str) -> None:
    policy = IpPolicy(["127.0.0.1:8080"])
    assert policy.refusal(address, 80) is not None


def test_48_ip_policy_allows_public_and_allow_listed_only() -> None:
    policy = IpPolicy(["127.0.0.1:8080", "10.9.0.0/16"])
    assert policy.allows("202.108.22.5", 80) and policy.allows("2400:da00::6666", 443)  # public (CN) addresses
    assert policy.allows("127.0.0.1", 8080) and not policy.allows("127.0.0.1", 8081)  # host *and* port
    assert policy.allows("10.9.3.4", 1) and not policy.allows("10.8.3.4", 1)
    with pytest.raises(IpPolicyError, match="localhost:80"):
        IpPolicy(["localhost:80"])


def test_48_ip_literals_refused_before_connect(tmp_path: Path, fs: FaultServer, sentinel: SentinelServer) -> None:
    port = sentinel.port
    # 127.0.0.3 written as a decimal integer, hex shorthand, octal, and IPv4-mapped IPv6 (all reach the sentinel)
    literals = [f"http://2130706435:{port}/a", f"http://0x7f.3:{port}/b", f"http://017700000003:{port}/c",
                f"http://127.0.0.3:{port}/d", f"http://[::ffff:127.0.0.3]:{port}/e"]
    allowed = fs.route(release_path("ok"), respond(200, html_page("允许"), HTML))
    crawl = run_fault_crawl(tmp_path / "out", urls=[*literals, allowed],
                            settings={"ARCHIVER_ALLOWED_IPS": f"127.0.0.1:{fs.port}"})
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert sentinel.hits() == 0 and sentinel.connections == 0  # refused before connect(), not after
    assert fs.hits(allowed) == 1 and crawl.row_for(allowed) is not None
    assert crawl.stats.get("ip_policy/refused") == len(literals)
    refused = {row["url"] for row in crawl.failures if row["reason"] == "ip_refused"}
    assert len(refused) == len(literals)
    assert_archive_invariants(crawl.out_dir)


# -- 49 DNS rebinding ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("pin", [True, False])
def test_49_dns_rebinding_never_reaches_the_sentinel(tmp_path: Path, pin: bool) -> None:
    with FaultServer() as fs, FaultServer("127.0.0.3", port=fs.port,
                                          default=respond(200, b"internal", HTML)) as internal:
        paths = [release_path(f"rebind{i}") for i in range(4)]
        for path in paths:
            fs.route(path, respond(200, html_page("外网"), HTML))  # Connection: close -> a new connect each time
        urls = [f"http://portal.test.gov.cn:{fs.port}{path}" for path in paths]
        log = tmp_path / "dns.log"
        os.environ["REBIND_LOG"] = str(log)
        try:
            crawl = run_fault_crawl(tmp_path / "out", urls=urls, settings={
                "TWISTED_DNS_RESOLVER": "tests.support.scope_support.RebindingResolver", "ARCHIVER_PIN_DNS": pin,
                "CONCURRENT_REQUESTS": 1, "ARCHIVER_ALLOWED_IPS": f"127.0.0.1:{fs.port}"})
        finally:
            del os.environ["REBIND_LOG"]
        assert crawl.returncode == 0, crawl.output[-2000:]
        answers = log.read_text().split()
        assert internal.hits() == 0 and internal.connections == 0
        if pin:  # one lookup, pinned: every request goes to the first allowed address
            assert answers.count("portal.test.gov.cn") == 1
            assert fs.hits() == 4 and len(crawl.rows()) == 4
        else:  # every connection asks again; the rebound answers are refused at connect time
            assert "127.0.0.3" in answers
            assert crawl.stats.get("ip_policy/refused", 0) >= 1
            assert {row["reason"] for row in crawl.failures} == {"ip_refused"}
        assert_archive_invariants(crawl.out_dir)


# -- 50 credential leaks -------------------------------------------------------------------------------------

def test_50_authorization_and_cookies_do_not_follow_redirects(tmp_path: Path) -> None:
    with FaultServer() as a, FaultServer() as a_port2, FaultServer("127.0.0.2") as b:
        b.route("/landing", respond(200, b"<html>b</html>", HTML))
        a_port2.route("/landing", respond(200, b"<html>a2</html>", HTML))
        a.route("/second", sequence(redirect(b.url("/landing")), redirect(a_port2.url("/landing"))))
        a.route("/login", respond(302, b"", [("Set-Cookie", "sid=s3cr3t; Path=/"), ("Location", "/second")]))
        crawl = run_fault_crawl(tmp_path / "out", urls=[a.url("/login"), a.url("/login?again=1")],
                                spider="tests.support.scope_support.CredentialSpider",
                                settings={"ARCHIVER_ALLOWED_IPS": "127.0.0.1,127.0.0.2", "CONCURRENT_REQUESTS": 1})
        assert crawl.returncode == 0, crawl.output[-2000:]
        seconds = a.requests("/second")
        assert len(seconds) == 2 and all(r.header("Authorization") and r.header("Cookie") for r in seconds), \
            "control: same host and port keep both headers"
        (to_b,) = b.requests("/landing")
        assert to_b.header("Authorization") is None and to_b.header("Cookie") is None  # another host
        (to_port,) = a_port2.requests("/landing")
        assert to_port.header("Authorization") is None  # same host, another port
    for uri, (_, http_headers, _) in warc_records(crawl, "request"):
        if uri.endswith("/landing"):
            assert http_headers.get_header("Authorization") is None, uri
        if uri == b.url("/landing"):
            assert http_headers.get_header("Cookie") is None
    assert_archive_invariants(crawl.out_dir)


# -- 51 robots.txt -------------------------------------------------------------------------------------------

ROBOTS = {"ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": 1, "RETRY_TIMES": 1}


def test_51_robots_5xx_disallows_for_now_then_refetches(tmp_path: Path, fs: FaultServer) -> None:
    fs.route("/robots.txt", sequence(respond(503, b"busy"), respond(503, b"busy"), respond(404, b"none")))
    pages = [fs.route(release_path(f"r{i}"), respond(200, html_page("页面"), HTML)) for i in range(2)]
    crawl = run_fault_crawl(tmp_path / "out", urls=pages, settings={**ROBOTS, "ROBOTSTXT_UNAVAILABLE_TTL": 0})
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert fs.hits("/robots.txt") == 3  # 503, its retry, then fetched again (not cached) -> 404
    fetched = [p for p in pages if fs.hits(p)]
    assert len(fetched) == 1 and crawl.row_for(fetched[0]) is not None  # 404 means allow all
    (refused,) = [p for p in pages if not fs.hits(p)]
    assert crawl.failure_for(refused)["reason"] == "robots_unavailable"
    robots = [rec[1].get_statuscode() for uri, rec in warc_records(crawl) if uri.endswith("/robots.txt")]
    assert robots == ["503", "503", "404"]  # the robots.txt fetches are archived too
    assert_archive_invariants(crawl.out_dir)


def test_51_robots_5xx_decision_is_kept_within_ttl(tmp_path: Path, fs: FaultServer) -> None:
    fs.route("/robots.txt", respond(500, b"User-agent: *\nAllow: /\n"))  # an error page is never parsed
    pages = [fs.route(release_path(f"t{i}"), respond(200, html_page("页面"), HTML)) for i in range(3)]
    crawl = run_fault_crawl(tmp_path / "out", urls=pages, settings=ROBOTS)
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert fs.hits("/robots.txt") == 2 and all(fs.hits(p) == 0 for p in pages)
    assert [crawl.failure_for(p)["reason"] for p in pages] == ["robots_unavailable"] * 3
    assert_archive_invariants(crawl.out_dir)


def test_51_robots_disallow_behind_redirect_and_404_error_page(tmp_path: Path) -> None:
    with FaultServer() as fs, FaultServer() as lenient:
        fs.route("/robots.txt", redirect("/real-robots.txt"))
        fs.route("/real-robots.txt", respond(200, b"User-agent: *\nDisallow: /\n", [("Content-Type", "text/plain")]))
        lenient.route("/robots.txt", respond(404, b"User-agent: *\nDisallow: /\n"))  # 4xx: allow all anyway
        blocked = fs.route(release_path("blocked"), respond(200, html_page("禁止"), HTML))
        allowed = lenient.route(release_path("allowed"), respond(200, html_page("允许"), HTML))
        crawl = run_fault_crawl(tmp_path / "out", urls=[blocked, allowed], settings=ROBOTS)
        # robots.txt refusals are skips by policy: counted, never a failure row (docs/report.md)
        assert fs.hits(blocked) == 0 and crawl.failure_for(blocked) is None
        assert crawl.stats["skips/robots"] == 1 and crawl.stats["robots/disallowed"] == 1
        assert lenient.hits(allowed) == 1 and crawl.row_for(allowed) is not None
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert_archive_invariants(crawl.out_dir)


# -- 52 path traversal in output names -----------------------------------------------------------------------

def test_52_output_names_never_come_from_urls(tmp_path: Path, fs: FaultServer) -> None:
    gbk_name = "../../通知.doc".encode("gbk")
    paths = ["/../../escape.html", "/%2e%2e%2f%2e%2e%2fescape2.html", "/a%00b.html", "/CON", "/aux.txt",
             "/" + "政务公开" * 25 + ".html", "/download"]
    for path in paths:
        fs.route(path, respond(200, b"<html>x</html>", [*HTML, ("Content-Disposition", b'attachment; filename="'
                                                                     + gbk_name + b'"')]))
    fs.route("/download", respond(200, b"PK", [("Content-Disposition", 'attachment; filename="../../x"')]))
    root = tmp_path / "root"
    root.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    urls = [fs.base_url + p for p in paths]
    crawl = run_fault_crawl(root / "out", urls=urls, settings={"WARC_MAX_SIZE": 3000})  # several files
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert sorted(p.name for p in root.iterdir()) == ["out"]
    made = sorted(str(p.relative_to(crawl.out_dir)) for p in crawl.out_dir.rglob("*"))
    warcs = [m for m in made if m.startswith("warc/") and m.endswith(".warc.gz")]
    assert len(warcs) >= 3
    fixed = ["crawl.log", "*.jsonl", "stats.json", "state.sqlite*", "*.lock", "warc", "warc/manifest-sha256.txt",
             "report.json", "report.html", "datapackage.json", "README.md"]
    assert all(any(fnmatch.fnmatch(m, pattern) for pattern in fixed) for m in set(made) - set(warcs)), made
    assert not {"escape", "escape2", "x", "CON", "aux"} & {Path(m).stem for m in made}
    assert all(re.fullmatch(r"warc/crawl-\d{17}-\d{5}-faulttest\.warc\.gz", w) for w in warcs), warcs
    assert len(warc_records(crawl)) == len(paths)
    assert_archive_invariants(crawl.out_dir)


# -- 53 decompression bombs ----------------------------------------------------------------------------------

BOMB_SIZE = 256 << 20  # 256 MiB of zeros: about 260 KB gzipped, 50 KB in brotli
BLOCK = bytes(1 << 24)


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join(packer.compress(BLOCK) for _ in range(BOMB_SIZE // len(BLOCK))) + packer.flush()


BOMB_LIMITS = {"DOWNLOAD_MAXSIZE": 8 << 20, "DOWNLOAD_WARNSIZE": 0}


def brotli_bomb() -> bytes:
    packer = brotli.Compressor(quality=1)
    return b"".join(packer.process(BLOCK) for _ in range(BOMB_SIZE // len(BLOCK))) + packer.finish()


def test_53_decompression_bombs_rejected_raw_bytes_kept(tmp_path: Path, fs: FaultServer, gzip_bomb: bytes) -> None:
    zip_buf = io.BytesIO()
    with zipfile.ZipFile(zip_buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.bin", bytes(64 << 20))
    gz = fs.route(release_path("gz"), respond(200, gzip_bomb, [*HTML, ("Content-Encoding", "gzip")]))
    attachment = fs.route("/module/download/downfile.jsp?filename=bomb.zip",
                          respond(200, zip_buf.getvalue(), [("Content-Type", "application/zip")]))
    crawl = run_fault_crawl(tmp_path / "out", urls=[gz, attachment], settings=BOMB_LIMITS)
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert crawl.failure_for(gz)["reason"] == "maxsize" and crawl.row_for(gz) is None
    bodies = {uri: rec[2] for uri, rec in warc_records(crawl)}
    assert bodies[gz] == gzip_bomb  # the raw (compressed) bytes are archived: they are under the raw limit
    assert bodies[attachment] == zip_buf.getvalue()  # stored as served, never unpacked
    assert not list(crawl.out_dir.rglob("bomb.bin"))
    peak = crawl.stats["test/vm_hwm_kib"]  # the crawl process's own peak RSS
    assert peak < 200 * 1024, f"the crawl peaked at {peak >> 10} MiB"
    assert_archive_invariants(crawl.out_dir)


def test_53_brotli_bomb_rejected(tmp_path: Path, fs: FaultServer) -> None:
    bomb = brotli_bomb()
    br = fs.route(release_path("br"), respond(200, bomb, [*HTML, ("Content-Encoding", "br")]))
    crawl = run_fault_crawl(tmp_path / "out", urls=[br], settings=BOMB_LIMITS)
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert crawl.failure_for(br)["reason"] == "maxsize" and crawl.row_for(br) is None
    assert {uri: rec[2] for uri, rec in warc_records(crawl)} == {br: bomb}
    assert crawl.stats["test/vm_hwm_kib"] < 200 * 1024
    # warcio in this venv cannot read br records (case 12, test_faults_http); the pywb venv's warcio can.
    pywb_warcio = Path(__file__).resolve().parents[1] / ".pywb-venv" / "bin" / "warcio"
    if pywb_warcio.exists():
        check = subprocess.run([str(pywb_warcio), "check", "-v", *map(str, crawl.warc_files)],
                               capture_output=True, text=True, timeout=120)
        assert check.returncode == 0 and check.stderr == "", check.stderr[-2000:]


REPLAY_SCRIPT = """
import sys
from archives.warc_reader import iter_captures
from tests.support.fault_crawl import vm_hwm_kib
caps = list(iter_captures([sys.argv[1]], max_body=4 << 20))
print(len(caps), caps[0].body_truncated, len(caps[0].body), vm_hwm_kib())
"""


def test_53_replay_reads_a_bomb_in_a_warc_with_a_byte_limit(tmp_path: Path, gzip_bomb: bytes) -> None:
    from datetime import UTC, datetime

    from archives.http_record import HttpExchange
    from archives.warc_writer import RotatingWarcWriter

    url = "http://www.example.gov.cn/art/2024/1/1/art_1_1.html"
    with RotatingWarcWriter(tmp_path, "crawl", 10**10, {"software": "test"}, "host") as writer:
        writer.write_exchange(HttpExchange(
            method="GET", url=url, request_headers=[], request_body=b"", protocol="HTTP/1.1", status=200,
            response_headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")], body=gzip_bomb,
            ip_address=None, started_at=datetime.now(UTC), truncated=None))
    (warc,) = tmp_path.glob("*.warc.gz")
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-c", REPLAY_SCRIPT, str(warc)], capture_output=True, text=True,
                          timeout=60, cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)})
    count, truncated, length, maxrss_kib = proc.stdout.split()
    assert (count, truncated, int(length)) == ("1", "True", 4 << 20), proc.stderr
    assert int(maxrss_kib) < 200 * 1024  # the 256 MiB body was never materialized


# -- 54 enormous headers and URLs ----------------------------------------------------------------------------

def test_54_enormous_headers_and_urls_fail_bounded(tmp_path: Path, fs: FaultServer) -> None:
    huge_line = fs.route(release_path("line"), respond(200, b"x", [("X-Huge", "a" * (1 << 20))]))
    many = fs.route(release_path("many"), respond(200, b"x", [(f"X-H{i}", "v") for i in range(100_000)]))
    long_url = fs.url(release_path("url") + "&q=" + "a" * (64 * 1024))
    ok = fs.route(release_path("ok"), respond(200, html_page("正常"), HTML))
    crawl = run_fault_crawl(tmp_path / "out", urls=[huge_line, many, long_url, ok], settings={"RETRY_TIMES": 0},
                            timeout=60)
    assert crawl.returncode == 0, crawl.output[-2000:]
    assert crawl.row_for(ok) is not None  # the crawl went on
    assert crawl.failure_for(huge_line)["reason"] in {"no_response", "dataloss", "error"}
    assert fs.hits(long_url) == 0  # never sent: URLLENGTH_LIMIT
    assert crawl.row_for(huge_line) is None
    many_row = crawl.failure_for(many)
    assert many_row is not None or crawl.row_for(many) is not None  # bounded either way: answered, no OOM/hang
    assert_archive_invariants(crawl.out_dir)
