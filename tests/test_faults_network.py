"""Catalogue cases 1-9 (RELIABILITY.md 2.1, network faults): one real crawl against the fault server.

Policies tested here (docs/reliability.md): a request that never got a complete response is retried
``RETRY_TIMES`` times and then gets a failure row, with nothing in the WARC when no HTTP headers arrived; a body cut
short is archived with ``WARC-Truncated: disconnect`` on every attempt, retried, and never extracted; timeouts and
size-limit cancellations archive nothing; every complete HTTP response (503s included) is archived as evidence;
Retry-After is honoured; TLS certificates are not verified but noted in the archived crawl log.
"""

from __future__ import annotations

import itertools
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.support.fault_crawl import FaultCrawl, run_fault_crawl
from tests.support.faultserver import (
    FaultServer,
    chunked,
    close_without_reply,
    drip,
    hang,
    html_page,
    release_path,
    reset_mid_body,
    respond,
    self_signed_context,
    sequence,
)
from tests.support.invariants import assert_archive_invariants

HTML = [("Content-Type", "text/html; charset=utf-8")]
TIMEOUT = 2
MAXSIZE = 100_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def responses_for(crawl: FaultCrawl, url: str) -> list[Any]:
    """(rec_headers, http_headers, body) of every response record for ``url``, in file order."""
    found = []
    for path in crawl.warc_files:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == url:
                    found.append((record.rec_headers, record.http_headers, record.raw_stream.read()))
    return found


class Net:
    """The crawl and the servers' view of it."""

    crawl: FaultCrawl
    urls: dict[str, str]
    servers: dict[str, FaultServer]
    elapsed: float


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Net:
    tmp = tmp_path_factory.mktemp("net")
    page = html_page("完整的正文")
    with FaultServer() as fs, FaultServer("127.0.0.2") as slow_host, \
            FaultServer(ssl_context=self_signed_context(str(tmp))) as tls:
        urls = {
            "refused": f"http://127.0.0.1:{_free_port()}{release_path('refused')}",
            "empty": fs.route(release_path("empty"), close_without_reply()),
            "dns": "http://nx.test.gov.cn" + release_path("dns"),
            "hang": fs.route(release_path("hang"), hang(TIMEOUT + 3)),
            "drip": fs.route(release_path("drip"), drip(page, delay=0.5, headers=HTML)),
            "reset": fs.route(release_path("reset"), reset_mid_body(90_000, b"x" * 40_000, HTML)),
            "unterminated": fs.route(release_path("unterminated"),
                                     chunked([page[:100], page[100:]], HTML, terminate=False)),
            "badchunk": fs.route(release_path("badchunk"), chunked([page[:100], page[100:]], HTML, bad_size_at=1)),
            "flaky": fs.route(release_path("flaky"), sequence(
                respond(503, b"busy", [("Content-Type", "text/plain")]),
                respond(503, b"busy again", [("Content-Type", "text/plain")]),
                respond(200, page, HTML))),
            "retry_after": slow_host.route(release_path("retry_after"), sequence(
                respond(429, b"slow down", [("Retry-After", "2")]), respond(200, page, HTML))),
            "retry_after_long": fs.route(release_path("retry_after_long"),
                                         respond(503, b"come back tomorrow", [("Retry-After", "86400")])),
            "tls": tls.route(release_path("tls"), respond(200, page, HTML)),
            "oversize_declared": fs.route(release_path("oversize_declared"),
                                          respond(200, b"x" * (MAXSIZE + 1000), HTML)),
            "oversize_chunked": fs.route(release_path("oversize_chunked"),
                                         chunked([b"y" * 20_000] * 8, HTML)),
            "ok": fs.route(release_path("ok"), respond(200, page, HTML)),
        }
        started = time.monotonic()
        crawl = run_fault_crawl(tmp / "out", urls=list(urls.values()), settings={
            "DOWNLOAD_TIMEOUT": TIMEOUT, "RETRY_TIMES": 2, "DOWNLOAD_MAXSIZE": MAXSIZE,
            "ARCHIVER_ALLOWED_IPS": "127.0.0.1,127.0.0.2"})
        result = Net()
        result.elapsed = time.monotonic() - started
        result.crawl, result.urls = crawl, urls
        result.servers = {"fs": fs, "slow_host": slow_host, "tls": tls}
    return result


def test_crawl_survives_every_fault_and_keeps_the_invariants(net: Net) -> None:
    crawl = net.crawl
    assert crawl.returncode == 0, crawl.output[-3000:]
    assert crawl.stats["finish_reason"] == "finished"
    assert crawl.stats["failures/count"] >= 9
    assert_archive_invariants(crawl.out_dir)
    assert crawl.row_for(net.urls["ok"]) is not None  # the healthy page next to the faults is archived


def test_case01_connection_refused_and_empty_reply(net: Net) -> None:
    crawl, fs = net.crawl, net.servers["fs"]
    assert crawl.failure_for(net.urls["refused"])["reason"] == "connect_refused"
    assert crawl.failure_for(net.urls["empty"])["reason"] == "no_response"
    assert fs.hits(_path_of(net.urls["empty"])) == 3  # 1 try + RETRY_TIMES=2
    for key in ("refused", "empty"):
        assert responses_for(crawl, net.urls[key]) == []
        assert crawl.row_for(net.urls[key]) is None


def test_case02_dns_failure(net: Net) -> None:
    failure = net.crawl.failure_for(net.urls["dns"])
    assert failure is not None and failure["reason"] == "dns", net.crawl.failures
    assert responses_for(net.crawl, net.urls["dns"]) == []


def test_case03_accepts_but_never_answers(net: Net) -> None:
    crawl, fs = net.crawl, net.servers["fs"]
    assert crawl.failure_for(net.urls["hang"])["reason"] == "timeout"
    times = fs.hit_times(_path_of(net.urls["hang"]))
    assert len(times) == 3
    # each attempt ends within the timeout plus a margin (no hang on a silent server)
    assert all(later - earlier < TIMEOUT + 1.5 for earlier, later in itertools.pairwise(times))
    assert responses_for(crawl, net.urls["hang"]) == []  # no orphan request record either
    assert net.elapsed < 30


def test_case04_slow_drip_body_times_out_and_nothing_is_recorded(net: Net) -> None:
    crawl = net.crawl
    assert crawl.failure_for(net.urls["drip"])["reason"] == "timeout"
    assert responses_for(crawl, net.urls["drip"]) == []
    assert crawl.row_for(net.urls["drip"]) is None


@pytest.mark.parametrize("key", ["reset", "unterminated", "badchunk"])
def test_case05_truncated_body_archived_as_truncated_retried_never_extracted(net: Net, key: str) -> None:
    crawl = net.crawl
    failure = crawl.failure_for(net.urls[key])
    assert failure is not None and failure["reason"] == "dataloss", crawl.failures
    records = responses_for(crawl, net.urls[key])
    assert len(records) == 3  # every attempt that got headers is evidence
    for rec_headers, http_headers, body in records:
        assert rec_headers.get_header("WARC-Truncated") == "disconnect"
        assert int(http_headers.get_header("Content-Length")) == len(body)
    assert failure["warc"]["record_id"] == records[-1][0].get_header("WARC-Record-ID")
    assert crawl.row_for(net.urls[key]) is None


def test_case06_flaky_host_503s_kept_as_evidence_final_200_extracted(net: Net) -> None:
    crawl = net.crawl
    records = responses_for(crawl, net.urls["flaky"])
    assert [int(h.get_statuscode()) for _, h, _ in records] == [503, 503, 200]
    row = crawl.row_for(net.urls["flaky"])
    assert row is not None and row["body_text"] == "完整的正文"
    assert row["warc"]["record_id"] == records[-1][0].get_header("WARC-Record-ID")
    assert records[-1][2] == html_page("完整的正文")
    assert crawl.failure_for(net.urls["flaky"]) is None


def test_case07_retry_after_is_honoured_and_bounded(net: Net) -> None:
    crawl, slow_host, fs = net.crawl, net.servers["slow_host"], net.servers["fs"]
    times = slow_host.hit_times(_path_of(net.urls["retry_after"]))
    assert len(times) == 2 and times[1] - times[0] >= 2.0
    assert crawl.row_for(net.urls["retry_after"]) is not None
    assert crawl.stats["retry/retry_after_honoured"] == 1
    # a Retry-After beyond RETRY_AFTER_MAX is not waited for: one request, a failure row, no retry storm
    assert fs.hits(_path_of(net.urls["retry_after_long"])) == 1
    assert crawl.failure_for(net.urls["retry_after_long"])["reason"] == "http_503"
    assert crawl.stats["retry/retry_after_too_long"] == 1


def test_case08_bad_tls_captured_and_certificate_noted(net: Net) -> None:
    crawl = net.crawl
    records = responses_for(crawl, net.urls["tls"])
    assert len(records) == 1 and records[0][2] == html_page("完整的正文")
    assert crawl.row_for(net.urls["tls"]) is not None
    assert crawl.stats["tls/self_signed"] == 1 and crawl.stats["tls/expired"] == 1
    assert "problems=self-signed,expired" in crawl.log
    # the note is archived: the crawl log resource record in the WARC carries it
    logs = []
    for path in crawl.warc_files:
        with path.open("rb") as handle:
            logs += [r.content_stream().read() for r in ArchiveIterator(handle) if r.rec_type == "resource"]
    assert any(b"problems=self-signed,expired" in log for log in logs)


@pytest.mark.parametrize("key", ["oversize_declared", "oversize_chunked"])
def test_case09_oversize_body_cancelled_with_failure_row(net: Net, key: str) -> None:
    crawl = net.crawl
    failure = crawl.failure_for(net.urls[key])
    assert failure is not None and failure["reason"] == "maxsize", crawl.failures
    assert responses_for(crawl, net.urls[key]) == []


def _path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_fault_server_counts_and_misbehaves(tmp_path: Path) -> None:
    """The harness itself: raw bytes go out as scripted, hits are counted, the sentinel answers on 127.0.0.3."""
    from tests.support.faultserver import SentinelServer, raw

    with FaultServer() as fs, SentinelServer() as sentinel:
        fs.route("/raw", raw(b"HTTP/1.1 200 \xe6\x88\x90\xe5\x8a\x9f\r\nX: \xff\r\n\r\nbody"))
        with socket.create_connection(("127.0.0.1", fs.port)) as sock:
            sock.sendall(b"GET /raw?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        assert data == b"HTTP/1.1 200 \xe6\x88\x90\xe5\x8a\x9f\r\nX: \xff\r\n\r\nbody"
        assert fs.hits("/raw") == 1 and fs.requests("/raw")[0].target == "/raw?x=1"
        with socket.create_connection(("127.0.0.3", sentinel.port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: b\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        assert sentinel.hits() == 1
