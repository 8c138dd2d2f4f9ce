"""One small real crawl with attachments and page requisites on, shared by test_attachments and test_requisites.

300 releases of seed 5 hold about 70 attachments (a third on the asset host 127.0.0.2, three forms linked from many
releases) and three files over the ATTACHMENTS_MAX_SIZE the crawl sets (one of them sent chunked, without a
Content-Length). The crawl runs in a child process once per session; tests must not modify its outputs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from simulator.portal import SimulatedPortal
from simulator.process import SimulatorProcess
from tests.support.common import CrawlOutput, read_jsonl, run_cli

RELEASES = 300
SEED = 5
LIMIT = 200_000
_CACHE: dict[str, AssetCrawl] = {}


@dataclass
class Record:
    """One WARC record, as the tests need it."""

    rec_type: str
    url: str
    status: int | None
    headers: dict[str, str]
    payload: bytes
    filename: str
    offset: int
    length: int
    warc_headers: dict[str, str]


@dataclass
class AssetCrawl(CrawlOutput):
    out_dir: Path
    base_url: str
    asset_host: str
    rows: list[dict[str, Any]]
    sim_stats: dict[str, Any]
    returncode: int
    output: str
    portal: SimulatedPortal = field(default_factory=lambda: SimulatedPortal(RELEASES, SEED))
    records: list[Record] = field(default_factory=list)

    def by_url(self, rec_type: str = "response") -> dict[str, list[Record]]:
        found: dict[str, list[Record]] = defaultdict(list)
        for record in self.records:
            if record.rec_type == rec_type:
                found[record.url].append(record)
        return found


def read_records(warc_dir: Path) -> list[Record]:
    records = []
    for path in sorted(warc_dir.glob("*.warc.gz")):
        with path.open("rb") as handle:
            iterator = ArchiveIterator(handle)
            for record in iterator:
                http = record.http_headers
                payload = record.content_stream().read()
                iterator.read_to_end(record)
                records.append(Record(
                    record.rec_type, record.rec_headers.get_header("WARC-Target-URI") or "",
                    int(http.get_statuscode()) if http is not None and record.rec_type == "response" else None,
                    {k.lower(): v for k, v in http.headers} if http is not None else {}, payload, path.name,
                    iterator.get_record_offset(), iterator.get_record_length(), dict(record.rec_headers.headers)))
    return records


def crawl(out_dir: Path, releases: int = RELEASES, *settings: str, asset_hosts: bool = True
          ) -> tuple[Path, str, str, dict[str, Any], Any]:
    """Crawl a fresh simulator into ``out_dir``; returns (out_dir, base_url, asset_host, sim stats, process)."""
    with SimulatorProcess(releases=releases, seed=SEED) as sim:
        args = ["crawl", "--start-url", sim.base_url, "--portal", "demo", "--out", str(out_dir), "--delay", "0",
                "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1,127.0.0.2"]
        if asset_hosts:
            args += ["--asset-hosts", sim.asset_host.split(":")[0]]
        for setting in settings:
            args += ["--set", setting]
        proc = run_cli(*args, timeout=300)
        return out_dir, sim.base_url, sim.asset_host, sim.stats(), proc


def asset_crawl(tmp_root: Path) -> AssetCrawl:
    """The shared crawl (made on first use)."""
    if "crawl" not in _CACHE:
        out_dir, base, asset, stats, proc = crawl(tmp_root / "asset-crawl", RELEASES,
                                                  f"ATTACHMENTS_MAX_SIZE={LIMIT}")
        rows = read_jsonl(out_dir / "releases.jsonl") if (out_dir / "releases.jsonl").exists() else []
        result = AssetCrawl(out_dir, base, asset, rows, stats, proc.returncode, proc.stdout + proc.stderr)
        result.records = read_records(out_dir / "warc")
        _CACHE["crawl"] = result
    return _CACHE["crawl"]
