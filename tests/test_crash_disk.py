"""Crash and disk faults (RELIABILITY.md 2.5, cases 34-39): kill -9 real crawls, fill a real (tmpfs) disk.

Crawls run in subprocesses with the project's settings against the loopback fault server. After a kill the
output is repaired with ``archives.recovery`` (what ``crawler recover`` runs) and must then pass the same archive
invariants as a clean run.
"""

from __future__ import annotations

import base64
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archives.jsonl import JsonlWriteError, JsonlWriter
from archives.recovery import complete_prefix, cut_partial_jsonl_line, recover_directory, recover_warc
from archives.warc_writer import OPEN_SUFFIX
from tests.support.common import run_cli
from tests.support.fault_crawl import REPO, TEST_SETTINGS, run_fault_crawl
from tests.support.faultserver import FaultServer, drip, html_page, release_path, respond, sequence
from tests.support.invariants import assert_archive_invariants, read_jsonl_strict
from tests.support.tmpfs import small_tmpfs

HTML = [("Content-Type", "text/html; charset=utf-8")]


def page(seed: int, size: int) -> bytes:
    """A release page with ``size`` bytes of incompressible text, so WARC files grow at a known pace."""
    noise = base64.b64encode(random.Random(seed).randbytes(size * 3 // 4)).decode()
    return html_page("正文 " + noise)


def serve_pages(fs: FaultServer, count: int, size: int, tag: str) -> list[str]:
    return [fs.route(release_path(f"{tag}{i}"), respond(200, page(i, size), HTML)) for i in range(count)]


def start_crawl(out_dir: Path, urls: list[str], settings: dict[str, object]) -> subprocess.Popen[bytes]:
    """Start a fault crawl (tests/support/fault_crawl.py) without waiting, so the test can kill it."""
    config = {"out_dir": str(out_dir), "urls": urls, "start_url": None, "spider": "fault_urls",
              "settings": {**TEST_SETTINGS, **settings}}
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, str(REPO / "tests" / "support" / "fault_crawl.py"), json.dumps(config)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def open_bytes(out_dir: Path) -> int:
    return sum(p.stat().st_size for p in (out_dir / "warc").glob(f"*{OPEN_SUFFIX}")) if (out_dir / "warc").is_dir() \
        else 0


def kill_when(proc: subprocess.Popen[bytes], ready: object, timeout: float = 30) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` is true; fail if the crawl ended first."""
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        assert proc.poll() is None, "the crawl finished before the kill"
        assert time.monotonic() < deadline, "kill condition never reached"
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(10) == -signal.SIGKILL


def kill_all_when(runs: list[tuple[subprocess.Popen[bytes], object]], timeout: float = 40) -> None:
    """Like `kill_when` for several crawls running side by side (each killed at its own condition)."""
    deadline = time.monotonic() + timeout
    pending = list(runs)
    while pending:
        for proc, ready in list(pending):
            if ready():  # type: ignore[operator]
                proc.send_signal(signal.SIGKILL)
                assert proc.wait(10) == -signal.SIGKILL
                pending.remove((proc, ready))
            else:
                assert proc.poll() is None, "a crawl finished before its kill"
        assert time.monotonic() < deadline, "kill condition never reached"
        time.sleep(0.005)


def records(path: Path) -> list[tuple[str, str | None, str | None, str | None]]:
    """(type, target URI, record id, concurrent-to) of every record in a WARC file."""
    with path.open("rb") as handle:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.rec_headers.get_header("WARC-Record-ID"),
                 r.rec_headers.get_header("WARC-Concurrent-To")) for r in ArchiveIterator(handle)]


def responses(out_dir: Path) -> list[str]:
    return [uri or "" for path in sorted((out_dir / "warc").glob("*.warc.gz"))
            for kind, uri, _, _ in records(path) if kind == "response"]


# -- 34 kill -9 mid-record -----------------------------------------------------------------------------------

def test_34_kill_mid_record_recover_and_resume(tmp_path: Path) -> None:
    out = tmp_path / "out"
    big_body = page(99, 4 << 20)
    with FaultServer() as fs:
        small = serve_pages(fs, 24, 60_000, "s")
        # the big page drips for seconds on the first fetch, then answers at once (the resumed run)
        big = fs.route(release_path("big"), sequence(drip(big_body, 0.05, HTML, step=64 * 1024),
                                                     respond(200, big_body, HTML)))
        proc = start_crawl(out, [big, *small], {"WARC_FSYNC_INTERVAL": 0.05})
        kill_when(proc, lambda: open_bytes(out) >= 1 << 20 and fs.hits(big) == 1 and len(responses_open(out)) >= 24)
        report = recover_directory(out)
        (recovered,) = report.warcs
        assert recovered.target is not None and not list((out / "warc").glob("*.open"))
        done = responses(out)
        assert big not in done and set(done) == set(small)  # records = captures completed before the kill
        rows_before = assert_archive_invariants(out)["releases.jsonl"] if (out / "releases.jsonl").exists() else []
        assert {row["url"] for row in rows_before} <= set(done)
        # resume: a second run over the same outputs fetches the interrupted URL
        crawl = run_fault_crawl(out, urls=[big])
        assert crawl.returncode == 0 and fs.hits(big) >= 2
    rows = assert_archive_invariants(out)["releases.jsonl"]
    assert any(row["url"] == big for row in rows)


def responses_open(out_dir: Path) -> list[str]:
    """Response URIs already in the .open file (complete members only)."""
    found: list[str] = []
    for path in (out_dir / "warc").glob(f"*{OPEN_SUFFIX}"):
        data = path.read_bytes()
        end, _ = complete_prefix(path)
        for record in ArchiveIterator(BytesIO(data[:end])):
            if record.rec_type == "response":
                found.append(record.rec_headers.get_header("WARC-Target-URI"))
    return found


@pytest.fixture(scope="module")
def closed_warc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real crawl's closed WARC (12 pages), for the torn-write tests."""
    out = tmp_path_factory.mktemp("torn") / "out"
    with FaultServer() as fs:
        crawl = run_fault_crawl(out, urls=serve_pages(fs, 12, 8000, "t"))
    assert crawl.returncode == 0
    (warc,) = crawl.warc_files
    return warc


def test_34_recover_cuts_a_torn_last_record(tmp_path: Path, closed_warc: Path) -> None:
    data = closed_warc.read_bytes()
    with closed_warc.open("rb") as handle:
        iterator = ArchiveIterator(handle)
        offsets = [iterator.get_record_offset() for _ in iterator]
    rng = random.Random(34)
    for i in range(12):
        member = rng.randrange(1, len(offsets))  # never inside warcinfo
        end = offsets[member + 1] if member + 1 < len(offsets) else len(data)
        cut = rng.randrange(offsets[member] + 1, end)  # a write torn inside this record
        torn = tmp_path / f"t{i}" / (closed_warc.name + OPEN_SUFFIX)
        torn.parent.mkdir()
        torn.write_bytes(data[:cut])
        result = recover_warc(torn)
        assert result.target is not None and result.records == member and result.kept_bytes == offsets[member]
        assert result.target.read_bytes() == data[: offsets[member]]
        check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", str(result.target)],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and check.stderr == "", check.stderr
    # a file with nothing complete in it is removed; a name that already exists is never replaced
    empty = tmp_path / ("x.warc.gz" + OPEN_SUFFIX)
    empty.write_bytes(data[:10])
    assert recover_warc(empty).removed and not empty.exists()


# -- 35 kill -9 between the WARC write and the JSONL write ----------------------------------------------------

def test_35_kill_at_random_points_every_row_resolves(tmp_path: Path) -> None:
    rng = random.Random(35)
    with FaultServer() as fs:
        urls = serve_pages(fs, 40, 6000, "k")
        runs = []
        for i in range(3):  # three crawls side by side, each killed at its own random point
            out = tmp_path / f"run{i}"
            proc = start_crawl(out, urls, {"CONCURRENT_REQUESTS_PER_DOMAIN": 2, "WARC_FSYNC_INTERVAL": 0.05,
                                           "JSONL_FSYNC_INTERVAL": 0.05})
            threshold = rng.randrange(20_000, 200_000)
            runs.append((out, proc, lambda out=out, threshold=threshold: open_bytes(out) >= threshold))
        kill_all_when([(proc, ready) for _, proc, ready in runs])
    for out, _, _ in runs:
        recover_directory(out)
        rows = assert_archive_invariants(out).get("releases.jsonl", [])  # every row resolves
        assert {row["url"] for row in rows} <= set(responses(out))  # orphan records allowed, orphan rows not


# -- 36 kill -9 during rotation ------------------------------------------------------------------------------

def test_36_kill_during_rotation(tmp_path: Path) -> None:
    rng = random.Random(36)
    with FaultServer() as fs:
        urls = serve_pages(fs, 60, 40_000, "r")
        runs = []
        for i in range(2):
            out = tmp_path / f"run{i}"
            proc = start_crawl(out, urls, {"WARC_MAX_SIZE": 200_000, "CONCURRENT_REQUESTS_PER_DOMAIN": 2})
            files = rng.randrange(2, 6)
            runs.append((out, files, proc,
                         lambda out=out, files=files: len(list((out / "warc").glob("*.warc.gz*"))) >= files))
        kill_all_when([(proc, ready) for _, _, proc, ready in runs])
    for out, files, _, _ in runs:
        recover_directory(out)
        warcs = sorted((out / "warc").glob("*.warc.gz"))
        assert len(warcs) >= files - 1 and len({w.name for w in warcs}) == len(warcs)
        for path in warcs:
            recs = records(path)
            assert recs[0][0] == "warcinfo"
            with path.open("rb") as handle:
                first = next(iter(ArchiveIterator(handle)))
                assert first.rec_headers.get_header("WARC-Filename") == path.name
            ids = {rid for kind, _, rid, _ in recs if kind == "response"}
            assert all(to in ids for kind, _, _, to in recs if kind == "request")  # pairs never split
            assert path.stat().st_size < 200_000 + 45_000 * 2
        assert_archive_invariants(out)


# -- 37 and 38: a real full disk (tmpfs) ---------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1.5 MB tmpfs: writes past it fail with ENOSPC, like a full disk."""
    with small_tmpfs(tmp_path / "disk", "1500k") as mount:
        yield mount


def column_page(urls: list[str]) -> bytes:
    """A Hanweb column page whose embedded datastore lists ``urls``."""
    records = "".join(f"<record><![CDATA[<li><a href=\"{u}\">标题{i}</a></li>]]></record>" for i, u in enumerate(urls))
    return (f"<html><head><title>通知公告</title></head><body><script type=\"text/xml\"><datastore>"
            f"<recordset>{records}</recordset></datastore></script></body></html>").encode()


def test_37_disk_full_during_warc_write(tmp_path: Path, small_disk: Path) -> None:
    out = small_disk / "out"
    with FaultServer() as fs:
        urls = serve_pages(fs, 40, 60_000, "d")
        start = fs.route("/col/col1/index.html", respond(200, column_page(urls), HTML))
        proc = run_cli("crawl", "--start-url", start, "--portal", "disk", "--out", str(out), "--delay", "0",
                       "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "ROBOTSTXT_OBEY=False",
                       "--set", "WARC_MAX_SIZE=300000", "--set", "PROGRESS_ENABLED=False",
                       "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1", timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    # whichever file hits the full disk first (a WARC, releases.jsonl, failures.jsonl), the run is failed
    assert proc.stdout.startswith("FAILED: disk full ("), proc.stdout
    assert "ENOSPC" in proc.stdout + proc.stderr + (out / "crawl.log").read_text("utf-8", "replace")
    # copy out (the full disk has no room for a recovery's fixity line), recover, and check everything
    saved = tmp_path / "saved"
    shutil.copytree(out, saved)
    closed = sorted((saved / "warc").glob("*.warc.gz"))
    assert len(closed) >= 2  # files closed before the disk filled
    recover_directory(saved)
    rows = assert_archive_invariants(saved).get("releases.jsonl", [])
    kept = responses(saved)
    assert 0 < len(kept) < len(urls) + 1  # earlier records intact; rows the full disk refused stay in the WARC
    assert {row["url"] for row in rows} <= set(kept)


def test_38_jsonl_disk_full_keeps_whole_lines(small_disk: Path) -> None:
    writer = JsonlWriter(small_disk / "releases.jsonl")
    row = {"title": "政务公开", "body_text": "正" * 20_000}
    written = 0
    with pytest.raises(JsonlWriteError, match="No space left"):
        while True:
            written += writer.write_rows([row, row, row])
    writer.close()
    rows = read_jsonl_strict(small_disk / "releases.jsonl")  # no partial line after ENOSPC
    assert len(rows) == written and written > 0
    # a torn last line (a crash mid-append) is cut on recovery
    with (small_disk / "releases.jsonl").open("r+b") as handle:
        handle.truncate(handle.seek(0, 2) - 10_000)
    assert cut_partial_jsonl_line(small_disk / "releases.jsonl") > 0
    assert len(read_jsonl_strict(small_disk / "releases.jsonl")) == written - 1


def test_38_unwritable_output_fails_before_the_first_request(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    read_only = tmp_path / "ro"
    read_only.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(read_only)],
                             capture_output=True).returncode == 0
    targets = [not_a_dir / "out"] + ([read_only / "out"] if mounted else [])
    try:
        with FaultServer() as fs:
            for target in targets:
                proc = run_cli("crawl", "--start-url", fs.url("/"), "--portal", "disk", "--out", str(target),
                               "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", timeout=60)
                assert proc.returncode == 2, proc.stderr
                assert proc.stderr.startswith("crawler crawl: error:") and str(target) in proc.stderr
                assert len(proc.stderr.strip().splitlines()) == 1  # one clear line, no traceback
            assert fs.hits() == 0  # before the first request (robots.txt included)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(read_only)], check=False)
    assert mounted or os.geteuid() != 0


# -- 39 gzip framing -----------------------------------------------------------------------------------------

def test_39_every_record_is_its_own_clean_gzip_member(closed_warc: Path) -> None:
    assert subprocess.run(["gzip", "-t", str(closed_warc)], capture_output=True).returncode == 0
    index = subprocess.run([str(Path(sys.executable).parent / "warcio"), "index", "-f", "offset,length",
                            str(closed_warc)], capture_output=True, text=True, check=True, timeout=60)
    data = closed_warc.read_bytes()
    spans = [json.loads(line) for line in index.stdout.splitlines()]
    assert len(spans) >= 25
    for span in spans:
        offset, length = int(span["offset"]), int(span["length"])
        member = data[offset: offset + length]
        assert member[:3] == b"\x1f\x8b\x08" and not member[3] & 0x04  # gzip, deflate, no FEXTRA
        inflater = zlib.decompressobj(wbits=31)
        inflater.decompress(member)
        assert inflater.eof and inflater.unused_data == b""
        assert len(list(ArchiveIterator(BytesIO(member)))) == 1
    assert sum(int(s["length"]) for s in spans) == len(data)  # members tile the file
