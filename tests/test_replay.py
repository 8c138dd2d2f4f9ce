"""Offline replay: the rows re-extracted from WARC files equal the live crawl's, for our WARCs and for wget's."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from simulator.process import SimulatorProcess
from tests.support.common import CrawlResult, read_jsonl, run_cli
from tests.support.warc_readings import assert_same_reading, everything

#: Fields that describe the fetch rather than the release (docs/schema.md).
FETCH_FIELDS = ("fetched_at", "warc")


def _release_fields(row: dict[str, Any]) -> dict[str, Any]:
    fields = {key: value for key, value in row.items() if key not in FETCH_FIELDS}
    if row["attachments"]:  # an attachment's pointer, like the row's own, names a record of one archive
        fields["attachments"] = [{k: v for k, v in a.items() if k != "warc"} for a in row["attachments"]]
    return fields


def test_replay_of_our_warcs_equals_the_live_crawl(e2e_crawl: CrawlResult, tmp_path: Path) -> None:
    out = tmp_path / "replayed.jsonl"
    proc = run_cli("replay", str(e2e_crawl.out_dir / "warc"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    replayed = {(row["url"], row["fetched_at"]): row for row in read_jsonl(out)}
    live = {(row["url"], row["fetched_at"]): row for row in e2e_crawl.rows}
    assert len(replayed) == len(read_jsonl(out)), "two replayed rows share (url, capture time)"
    assert replayed.keys() == live.keys()
    for key, row in live.items():
        assert _release_fields(replayed[key]) == _release_fields(row), key
        # The pointer names the very record the live row names, and so do its attachments' pointers.
        assert replayed[key]["warc"] == row["warc"], key
        assert replayed[key]["attachments"] == row["attachments"], key


def test_replay_gives_one_row_per_capture_across_runs(e2e_crawl: CrawlResult, tmp_path: Path) -> None:
    """A directory holding two copies of a run's WARCs (as two runs would) gives two rows per release."""
    doubled = tmp_path / "warcs"
    doubled.mkdir()
    for path in e2e_crawl.warc_files[:1]:
        shutil.copy(path, doubled / path.name)
        shutil.copy(path, doubled / ("second-" + path.name))
    out = tmp_path / "replayed.jsonl"
    assert run_cli("replay", str(doubled), "--out", str(out)).returncode == 0
    rows = read_jsonl(out)
    by_file: dict[str, int] = {}
    for row in rows:
        by_file[row["warc"]["filename"]] = by_file.get(row["warc"]["filename"], 0) + 1
    assert len(by_file) == 2 and len(set(by_file.values())) == 1
    assert len(rows) == 2 * next(iter(by_file.values()))


def test_replay_jobs_give_the_same_rows_in_the_same_order(e2e_crawl: CrawlResult, tmp_path: Path) -> None:
    """Worker processes share out the releases; the file they write is byte for byte that of one job."""
    outputs = {}
    for jobs in ("1", "3"):
        out = tmp_path / f"jobs{jobs}.jsonl"
        proc = run_cli("replay", str(e2e_crawl.out_dir / "warc"), "--out", str(out), "--jobs", jobs)
        assert proc.returncode == 0, proc.stderr[-2000:]
        outputs[jobs] = out.read_bytes()
    assert outputs["1"] == outputs["3"]
    assert len(read_jsonl(tmp_path / "jobs1.jsonl")) == len(e2e_crawl.rows)


@pytest.mark.parametrize("jobs", ["0", "two", "-1"])
def test_replay_rejects_a_job_count_that_is_not_a_whole_number_above_zero(jobs: str, tmp_path: Path) -> None:
    proc = run_cli("replay", str(tmp_path), "--out", str(tmp_path / "x.jsonl"), "--jobs", jobs)
    assert proc.returncode == 2
    assert "--jobs" in proc.stderr and "at least 1" in proc.stderr


def test_replay_rejects_a_missing_input_with_a_clear_message(tmp_path: Path) -> None:
    proc = run_cli("replay", str(tmp_path / "nope"), "--out", str(tmp_path / "x.jsonl"))
    assert proc.returncode == 2
    assert "nope" in proc.stderr and "Traceback" not in proc.stderr


def _urls_in_warc_order(warc_files: list[Path]) -> list[str]:
    urls: list[str] = []
    for path in warc_files:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "request" and record.http_headers.protocol == "GET":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    if uri not in urls:
                        urls.append(uri)
    return urls


@pytest.mark.skipif(shutil.which("wget") is None, reason="GNU wget is installed by .ci/run")
def test_replay_of_a_wget_warc_equals_our_rows(tmp_path: Path) -> None:
    out_dir = tmp_path / "ours"
    with SimulatorProcess(releases=120, seed=11) as sim:
        crawl = run_cli("crawl", "--start-url", sim.base_url, "--portal", "demo", "--out", str(out_dir),
                        "--delay", "0",
                        "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1")
        assert crawl.returncode == 0, crawl.stdout[-2000:]
        urls = _urls_in_warc_order(sorted((out_dir / "warc").glob("*.warc.gz")))
        (tmp_path / "urls.txt").write_text("\n".join(urls) + "\n")
        subprocess.run(["wget", "-q", "-i", "urls.txt", "--warc-file=wget", "--no-warc-keep-log",
                        "-O", "/dev/null", "--tries=1"], cwd=tmp_path, timeout=300, check=False)
    wget_warc = tmp_path / "wget.warc.gz"
    assert wget_warc.exists()
    assert_same_reading([wget_warc], everything)  # FastWARC reads wget's WARC as warcio does
    out = tmp_path / "wget-replayed.jsonl"
    proc = run_cli("replay", str(wget_warc), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    ours = {row["url"]: row for row in read_jsonl(out_dir / "releases.jsonl")}
    theirs = read_jsonl(out)
    assert {row["url"] for row in theirs} == set(ours)
    for row in theirs:
        # wget's WARC holds no skip records: a file our crawl skipped (out of scope) is "not_fetched" there
        mine = _release_fields(ours[row["url"]])
        mine["attachments"] = [a | {"skip_reason": "not_fetched"} if a["skip_reason"] == "out_of_scope" else a
                               for a in mine["attachments"]]
        assert _release_fields(row) | {"charset": None} == mine | {"charset": None}
        assert row["charset"]["used"] == ours[row["url"]]["charset"]["used"]


def test_replay_of_a_file_that_is_not_a_warc_says_so_and_keeps_the_output(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.warc.gz").write_bytes(b"\x00garbage" * 100)
    out = tmp_path / "rows.jsonl"
    out.write_text('{"earlier": "rows"}\n')
    proc = run_cli("replay", str(tmp_path / "in"), "--out", str(out))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "x.warc.gz" in proc.stderr and "WARC" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert out.read_text() == '{"earlier": "rows"}\n'


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_replay_that_meets_a_broken_record_stops_with_one_line_and_keeps_the_output(jobs: str, tmp_path: Path
                                                                                    ) -> None:
    """A record that is not WARC after good ones: one line naming the input, no partial file, the earlier output
    untouched (the rows are written beside it and take its place only when every capture was read)."""
    good = _hand_made_members()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "m.warc.gz").write_bytes(good[0] + gzip.compress(b"not a WARC record\r\n\r\n") + good[1])
    out = tmp_path / "rows.jsonl"
    out.write_text('{"earlier": "rows"}\n')
    proc = run_cli("replay", str(tmp_path / "in"), "--out", str(out), "--jobs", jobs)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "not a WARC record" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert out.read_text() == '{"earlier": "rows"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "rows.jsonl"]


def _hand_made_members() -> tuple[bytes, bytes]:
    """Two runs of gzip members of hand-made response records (release pages), as a crawl writes them."""
    from tests.test_warc_fast_reader import _records

    records = [gzip.compress(record) for record in _records()]
    return b"".join(records[:5]), b"".join(records[5:8])


def test_replay_to_a_place_that_cannot_be_written_says_so_before_reading(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "m.warc.gz").write_bytes(b"".join(_hand_made_members()))
    (tmp_path / "a-file").write_text("")
    proc = run_cli("replay", str(tmp_path / "in"), "--out", str(tmp_path / "a-file" / "rows.jsonl"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--out" in proc.stderr and "a-file" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_replay_hands_out_small_batches_near_the_end_only() -> None:
    from crawler.offline.replay import TAIL_BATCH, TASK_BATCH, _batches

    tasks = [(number, {}) for number in range(1000)]
    batches = list(_batches(iter(tasks), jobs=2, captures=1000))
    assert [number for batch in batches for number, _ in batch] == list(range(1000))  # all, in order
    tail = 1000 - 2 * 2 * TASK_BATCH  # two full batches a job left: from here on, small ones
    before = [len(batch) for batch in batches if batch[-1][0] < tail]
    after = [len(batch) for batch in batches[:-1] if batch[0][0] > tail]  # the last one: what is left
    assert set(before) == {TASK_BATCH}
    assert set(after) == {TAIL_BATCH} and len(after) >= 2 * 2 * TASK_BATCH // TAIL_BATCH - 1
    assert {len(batch) for batch in _batches(iter(tasks), 2, None)} <= {TASK_BATCH, 1000 % TASK_BATCH}
