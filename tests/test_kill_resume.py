"""kill -9 at several points of a crawl, then the same command again: a valid, complete, duplicate-free archive."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archives.jsonl import JsonlWriter
from archives.warc_writer import RotatingWarcWriter
from crawler.recurring.recover import recover_dir
from simulator.portal import AID_BASE
from simulator.process import SimulatorProcess
from tests.support.common import BIN, REPO, run_cli
from tests.support.recurring_support import FAST, crawl, read_lines, release_id, write_registry

RELEASES = 40


def _write_warc(directory: Path, records: int) -> Path:
    writer = RotatingWarcWriter(directory, "t", 10**9, {"software": "test"}, crawlhost="h")
    for k in range(records):
        writer.write_resource(f"urn:test:{k}", os.urandom(3000), "application/octet-stream")
    name = writer.current_filename
    assert name is not None
    writer.sync()
    assert writer._fd is not None
    os.close(writer._fd)  # what a kill does: the descriptor (and its flock) goes, the `.open` file stays
    writer._fd = None
    return directory / (name + ".open")


def _records(path: Path) -> list[str]:
    with path.open("rb") as handle:
        return [r.rec_headers.get_header("WARC-Type") for r in ArchiveIterator(handle)]


def test_recover_cuts_a_half_written_record_and_renames(tmp_path: Path) -> None:
    path = _write_warc(tmp_path, 5)
    data = path.read_bytes()
    path.write_bytes(data[:-1500])  # the kill hit the middle of the last record's gzip member
    proc = run_cli("recover", str(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    final = tmp_path / path.name.removesuffix(".open")
    assert not path.exists() and final.exists()
    assert _records(final) == ["warcinfo"] + ["resource"] * 4
    assert gzip.decompress(final.read_bytes())  # every member complete
    assert final.name in (tmp_path / "manifest-sha256.txt").read_text()
    assert "cut 1" in proc.stdout or "cut" in proc.stdout


def test_recover_leaves_files_a_live_process_holds(tmp_path: Path) -> None:
    script = ("import sys, time; from archives.warc_writer import RotatingWarcWriter as W; "
              "w = W(sys.argv[1], 'live', 10**9, {}, crawlhost='h'); w.write_resource('urn:x', b'x', 'text/plain');"
              " w.sync(); print('ready', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              cwd=REPO)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        (open_file,) = tmp_path.glob("*.open")
        size = open_file.stat().st_size
        report = recover_dir(tmp_path)
        assert report.skipped_live == [str(open_file)] and not report.recovered
        assert open_file.stat().st_size == size
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    assert len(recover_dir(tmp_path).recovered) == 1  # its writer is dead now


def test_recover_finishes_a_rename_and_a_manifest_a_kill_interrupted(tmp_path: Path) -> None:
    path = _write_warc(tmp_path, 2)
    final = tmp_path / path.name.removesuffix(".open")
    os.link(path, final)  # killed between the writer's link() and unlink()
    other = _write_warc(tmp_path / "b", 1)
    other.rename(other.with_name(other.name.removesuffix(".open")))  # killed between rename and manifest
    report = recover_dir(tmp_path)
    assert not report.errors and not list(tmp_path.rglob("*.open"))
    assert _records(final) == ["warcinfo", "resource", "resource"]
    assert (tmp_path / "manifest-sha256.txt").read_text().count(final.name) == 1
    assert report.fixity_added == [other.name.removesuffix(".open")]


def test_recover_cuts_a_partial_jsonl_line(tmp_path: Path) -> None:
    path = tmp_path / "releases.jsonl"
    path.write_bytes(b'{"a":1}\n{"a":2}\n{"a":')
    recover_dir(tmp_path)
    assert path.read_bytes() == b'{"a":1}\n{"a":2}\n'
    JsonlWriter(path).close()


# -- kill -9 during real crawls ---------------------------------------------------------------------------

def _open_size(out: Path) -> int:
    return sum(p.stat().st_size for p in (out / "warc").glob("*.open")) if (out / "warc").exists() else 0


def _closed(out: Path) -> int:
    return len(list((out / "warc").glob("*.warc.gz"))) if (out / "warc").exists() else 0


def _rows(out: Path) -> int:
    path = out / "releases.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


KILL_POINTS: dict[str, tuple[tuple[str, ...], Callable[[Path], bool]]] = {
    # some rows written, responses in flight: the resumed run must skip what was archived
    # (slow enough that a loaded machine still reaches the kill point: about 5 s of crawl, rows flushed every 0.2 s)
    "mid-crawl": (("--set", "DOWNLOAD_DELAY=0.1", "--set", "JSONL_FSYNC_INTERVAL=0.2"),
                  lambda out: _rows(out) >= 5 and _open_size(out) > 0),
    # rows are held until their WARC records are fsynced: here the WARC has records and the JSONL has none
    "between-warc-and-jsonl": (("--set", "JSONL_FSYNC_INTERVAL=60", "--set", "WARC_FSYNC_INTERVAL=0",
                                "--set", "DOWNLOAD_DELAY=0.03"), lambda out: _open_size(out) > 150_000),
    # tiny files: the kill lands among rotations
    "during-rotation": (("--set", "WARC_MAX_SIZE=60000", "--set", "DOWNLOAD_DELAY=0.03"),
                        lambda out: _closed(out) >= 3),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_9_then_resume_gives_a_complete_archive(tmp_path: Path, point: str) -> None:
    extra, ready = KILL_POINTS[point]
    out = tmp_path / "out"
    with SimulatorProcess(RELEASES, 5, extra_args=["--asset-host", ""]) as sim:
        registry = write_registry(tmp_path / "portals.toml", sim.base_url)
        proc = subprocess.Popen([str(BIN / "crawler"), "crawl", "--portal", "demo", "--portals", str(registry),
                                 "--out", str(out), *FAST, *extra], cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not ready(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, f"the crawl ended before the kill point {point}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        rows_before = _rows(out)
        if point == "mid-crawl":
            assert rows_before >= 5
        if point == "between-warc-and-jsonl":
            assert rows_before == 0 and _open_size(out) > 0
        resumed = crawl(sim, registry, out)
    assert resumed.proc.returncode == 0, resumed.proc.stdout + resumed.proc.stderr
    # complete, no duplicates, the resumed run did not fetch again what was archived
    rows = read_lines(out / "releases.jsonl")
    ids = [r["release_id"] for r in rows]
    assert sorted(ids) == sorted(release_id(AID_BASE + i) for i in range(RELEASES))
    assert resumed.full_release_fetches == RELEASES - rows_before
    # valid WARCs, nothing left open, every row's record where it says
    files = sorted((out / "warc").glob("*.warc.gz"))
    assert not list((out / "warc").glob("*.open"))
    check = subprocess.run([str(BIN / "warcio"), "check", *map(str, files)], capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0 and not check.stderr, check.stdout + check.stderr
    for path in files:
        assert _records(path)[0] == "warcinfo"
    for row in rows:
        with (out / "warc" / row["warc"]["filename"]).open("rb") as handle:
            handle.seek(row["warc"]["offset"])
            record = next(iter(ArchiveIterator(handle)))
            assert record.rec_headers.get_header("WARC-Record-ID") == row["warc"]["record_id"]
            assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]
    manifest = (out / "warc" / "manifest-sha256.txt").read_text()
    assert all(path.name in manifest for path in files)
