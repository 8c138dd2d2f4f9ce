"""Revisits in pywb (RELIABILITY case 42): run 2's identical-payload revisit replays run 1's bytes when both runs
are in one collection, and cannot be replayed from run 2's WARC alone (the cost of pruning run 1).

Run 2 is served by a portal without validators (no ETag/Last-Modified, conditional requests ignored), so unchanged
pages come back as 200 with the same payload and are written as identical-payload-digest revisits."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archives import pywb
from simulator.process import SimulatorProcess
from tests.support.common import run_cli
from tests.support.warc_readings import assert_same_reading, everything


@dataclass
class TwoRuns:
    run1: Path
    run2: Path
    revisit_uri: str
    revisit_ts: str
    original_payload: bytes


def _records(path: Path) -> list[tuple[str, str, str, str, bytes]]:
    found = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type in ("response", "revisit"):
                headers = record.rec_headers
                found.append((record.rec_type, headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date"),
                              headers.get_header("WARC-Refers-To") or headers.get_header("WARC-Record-ID"),
                              record.raw_stream.read() if record.rec_type == "response" else b""))
    return found


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    tmp = tmp_path_factory.mktemp("revisits")
    out, mutations = tmp / "out", tmp / "mutations.json"
    with SimulatorProcess(releases=40, seed=5, extra_args=["--mutations", str(mutations)]) as sim:
        for run in (1, 2):
            if run == 2:
                mutations.write_text(json.dumps({"validators": False}), encoding="utf-8")
            proc = run_cli("crawl", "--start-url", sim.base_url, "--portal", "demo", "--out", str(out),
                           "--delay", "0",
                           "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "RECURRING_REFRESH_WINDOW_DAYS=100000")
            assert proc.returncode == 0, proc.stdout[-2000:]
    run1, run2 = sorted((out / "warc").glob("*.warc.gz"))
    originals = {record_id: payload for kind, _uri, _date, record_id, payload in _records(run1) if kind == "response"}
    revisits = [(uri, date, refers) for kind, uri, date, refers, _ in _records(run2)
                if kind == "revisit" and "/art/" in uri]
    assert _profiles(run2) == {"http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"}
    assert revisits, "run 2 wrote no revisit of a release page"
    uri, date, refers = revisits[0]
    assert refers in originals, "the revisit refers to a record of run 1"
    ts = date.replace("-", "").replace(":", "").replace("T", "")[:14]
    return TwoRuns(run1, run2, uri, ts, originals[refers])


def _profiles(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {record.rec_headers.get_header("WARC-Profile") for record in ArchiveIterator(handle)
                if record.rec_type == "revisit"}


def _get(wayback: pywb.Wayback, coll: str, ts: str, uri: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", wayback.port, timeout=30)
    try:
        conn.request("GET", f"/{coll}/{ts}id_/{uri}", headers={"Accept-Encoding": "gzip"})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def test_a_revisit_replays_the_original_bytes_when_both_runs_are_in_the_collection(
        two_runs: TwoRuns, tmp_path: Path) -> None:
    pywb.build_collection(tmp_path, "both", [two_runs.run1, two_runs.run2])
    pywb.build_collection(tmp_path, "run2only", [two_runs.run2])
    pywb.disable_fuzzy_matching(tmp_path)
    with pywb.Wayback(tmp_path) as wayback:
        status, body = _get(wayback, "both", two_runs.revisit_ts, two_runs.revisit_uri)
        assert status == 200, wayback.log_tail()
        assert body == two_runs.original_payload
        status, body = _get(wayback, "run2only", two_runs.revisit_ts, two_runs.revisit_uri)
        assert not (status == 200 and body == two_runs.original_payload)
        assert status != 200, (status, body[:200])


def test_fastwarc_reads_both_runs_as_warcio_does(two_runs: TwoRuns) -> None:
    """Replay's FastWARC scan finds each revisit's original in run 1 and reads its bytes, as warcio does."""
    captures = assert_same_reading([two_runs.run1, two_runs.run2], everything)
    revisits = [c for c in captures if c.record_type == "revisit"]
    assert revisits and all(c.filename == two_runs.run2.name for c in revisits)
    originals = {c.url: c.body for c in captures if c.record_type == "response" and c.filename == two_runs.run1.name}
    assert all(c.body == originals[c.url] for c in revisits)
    assert any(c.url == two_runs.revisit_uri for c in revisits)
