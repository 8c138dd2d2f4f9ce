"""One small real crawl shared by the archive-tool tests (index, WACZ, pywb replay, verify).

450 releases is the smallest simulated portal whose POST-listed columns need two dataproxy requests each (records
16-60 and 61-64), so the three POST columns give six POST captures: three share one URL and differ only in their
form body, and each column has two pages. A small WARC_MAX_SIZE spreads the crawl over several WARC files.
The crawl runs in a child process (a Twisted reactor cannot restart) and is made once per test session; tests
must not modify it (copy it first).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from simulator.process import SimulatorProcess
from tests.support.common import CrawlOutput, read_jsonl, run_cli

RELEASES = 450
SEED = 11
_CACHE: dict[str, ArchiveCrawl] = {}


@dataclass
class Exchange:
    """A response record (payload as stored) and, for POST, its request body."""

    url: str
    warc_date: str
    status: int
    headers: dict[str, str]
    payload: bytes
    filename: str
    offset: int
    method: str = "GET"
    request_body: bytes = b""

    @property
    def decoded(self) -> bytes:
        if self.headers.get("content-encoding", "").lower() == "gzip":
            return gzip.decompress(self.payload)
        return self.payload


@dataclass
class ArchiveCrawl(CrawlOutput):
    out_dir: Path
    base_url: str
    rows: list[dict[str, Any]]
    stdout: str
    exchanges: list[Exchange] = field(default_factory=list)

    def response_for(self, url: str) -> Exchange:
        [found] = [e for e in self.exchanges if e.url == url and e.method == "GET"]
        return found

    def posts(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST"]


def read_exchanges(warc_files: list[Path]) -> list[Exchange]:
    """Every response record with its stored payload, paired with the request record written after it."""
    exchanges: list[Exchange] = []
    by_id: dict[str, Exchange] = {}
    for path in warc_files:
        with path.open("rb") as handle:
            iterator = ArchiveIterator(handle)
            for record in iterator:
                headers = record.rec_headers
                if record.rec_type == "response":
                    http = record.http_headers
                    payload = record.raw_stream.read()  # before get_record_offset, which reads to the end
                    exchange = Exchange(
                        headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"),
                        int(http.get_statuscode()), {k.lower(): v for k, v in http.headers},
                        payload, path.name, iterator.get_record_offset(),
                    )
                    exchanges.append(exchange)
                    by_id[headers.get_header("WARC-Record-ID")] = exchange
                elif record.rec_type == "request":
                    exchange = by_id.get(headers.get_header("WARC-Concurrent-To") or "")
                    if exchange is not None:
                        exchange.method = record.http_headers.protocol
                        exchange.request_body = record.raw_stream.read()
    return exchanges


def archive_crawl(tmp_path_factory: pytest.TempPathFactory) -> ArchiveCrawl:
    """The shared crawl (made on first use)."""
    if "crawl" not in _CACHE:
        out_dir = tmp_path_factory.mktemp("archive-crawl") / "out"
        with SimulatorProcess(releases=RELEASES, seed=SEED) as sim:
            proc = run_cli("crawl", "--start-url", sim.base_url, "--portal", "demo", "--out", str(out_dir),
                           "--delay", "0", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
                           "--set", "WARC_MAX_SIZE=1500000", "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1")
            base_url = sim.base_url
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
        rows = read_jsonl(out_dir / "releases.jsonl")
        assert len(rows) == RELEASES, f"{len(rows)} rows"
        crawl = ArchiveCrawl(out_dir, base_url, rows, proc.stdout)
        crawl.exchanges = read_exchanges(crawl.warc_files)
        _CACHE["crawl"] = crawl
    return _CACHE["crawl"]
