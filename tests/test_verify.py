"""`crawler verify DIR`: passes on a clean crawl, fails loudly (and says where) on each kind of damage."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from archives.verify import verify_crawl
from pipelines.validate import row_problem
from tests.support.archive_crawl import ArchiveCrawl, archive_crawl
from tests.support.common import run_cli


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> ArchiveCrawl:
    return archive_crawl(tmp_path_factory)


@pytest.fixture
def copy(crawl: ArchiveCrawl, tmp_path: Path) -> Path:
    """A private copy of the crawl to damage."""
    target = tmp_path / "crawl"
    shutil.copytree(crawl.out_dir, target)
    return target


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("verify", str(path), timeout=120)


def _pointer(row: dict[str, Any]) -> dict[str, Any]:
    pointer = row["warc"]
    assert isinstance(pointer, dict)
    return pointer


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def test_clean_crawl_passes_with_counts(crawl: ArchiveCrawl) -> None:
    proc = verify(crawl.out_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "verify: OK" in proc.stdout
    responses = len(crawl.exchanges)
    assert f"response {responses}" in proc.stdout and f"request {responses}" in proc.stdout
    assert f"warcinfo {len(crawl.warc_files)}" in proc.stdout
    assert f"WARC files: {len(crawl.warc_files)}" in proc.stdout
    assert "450 rows, 450 WARC pointers resolved" in proc.stdout


def test_the_report_as_a_value(crawl: ArchiveCrawl) -> None:
    report = verify_crawl(crawl.out_dir, row_problem)
    assert report.ok and report.problems == []
    assert report.rows == report.pointers_ok == 450
    assert report.record_counts["response"] == len(crawl.exchanges)
    assert report.record_counts["warcinfo"] == len(report.warc_files) == len(crawl.warc_files)


def test_corrupted_record_bytes_fail(crawl: ArchiveCrawl, copy: Path) -> None:
    row = crawl.rows[20]
    pointer = _pointer(row)
    warc = copy / "warc" / pointer["filename"]
    data = bytearray(warc.read_bytes())
    middle = pointer["offset"] + pointer["length"] // 2
    for i in range(middle, middle + 16):
        data[i] ^= 0x5A
    warc.write_bytes(bytes(data))
    proc = verify(copy)
    assert proc.returncode == 1, proc.stdout
    assert "verify: FAILED" in proc.stdout
    assert f"{pointer['filename']}: bytes {pointer['offset']}.." in proc.stdout
    assert "the record is corrupted" in proc.stdout
    assert "the gzip data is damaged" in proc.stdout
    assert f"fixity: {pointer['filename']}: sha256 mismatch" in proc.stdout
    assert f"({row['release_id']}): warc pointer" in proc.stdout


def test_record_whose_payload_no_longer_matches_its_digest_fails(crawl: ArchiveCrawl, copy: Path) -> None:
    """A well-formed gzip member whose HTTP body was altered: only the WARC digests can tell."""
    row = next(r for r in reversed(crawl.rows) if "content-encoding" not in crawl.response_for(r["url"]).headers)
    pointer = _pointer(row)
    warc = copy / "warc" / pointer["filename"]
    data = warc.read_bytes()
    start, end = pointer["offset"], pointer["offset"] + pointer["length"]
    record = gzip.decompress(data[start:end])
    cut = record.rindex(b"</body>")
    altered = record[:cut - 1] + (b"X" if record[cut - 1:cut] != b"X" else b"Y") + record[cut:]
    assert len(altered) == len(record)
    warc.write_bytes(data[:start] + gzip.compress(altered, mtime=0) + data[end:])
    proc = verify(copy)
    assert proc.returncode == 1
    assert "payload digest failed" in proc.stdout and row["url"] in proc.stdout
    assert "block digest failed" in proc.stdout


def test_file_whose_fixity_no_longer_matches_fails(crawl: ArchiveCrawl, copy: Path) -> None:
    """Flip a bit of a gzip header's MTIME: every record still reads and every digest holds, only sha256 differs."""
    warc = copy / "warc" / crawl.warc_files[0].name
    data = bytearray(warc.read_bytes())
    assert data[:2] == b"\x1f\x8b"
    data[4] ^= 0x01
    warc.write_bytes(bytes(data))
    proc = verify(copy)
    assert proc.returncode == 1, proc.stdout
    assert "1 problem(s)" in proc.stdout
    assert f"fixity: {warc.name}: sha256 mismatch" in proc.stdout
    assert "changed after it was closed" in proc.stdout


def test_manifest_that_lacks_a_file_fails(crawl: ArchiveCrawl, copy: Path) -> None:
    manifest = copy / "warc" / "manifest-sha256.txt"
    lines = manifest.read_text(encoding="ascii").splitlines()
    manifest.write_text("\n".join(lines[1:]) + ("\n" if len(lines) > 1 else ""), encoding="ascii")
    proc = verify(copy)
    assert proc.returncode == 1
    assert "not in manifest-sha256.txt" in proc.stdout


def test_row_pointing_at_the_wrong_record_fails(crawl: ArchiveCrawl, copy: Path) -> None:
    rows = [dict(row) for row in crawl.rows]
    # line 3: the pointer moved onto the request record written right after the response
    first = _pointer(rows[2])
    rows[2]["warc"] = dict(first, offset=first["offset"] + first["length"])
    # line 5: another release's pointer (a real response record, for another URL)
    rows[4]["warc"] = dict(_pointer(rows[5]))
    # line 8: the right record, a wrong record id
    rows[7]["warc"] = dict(_pointer(rows[7]), record_id="<urn:uuid:00000000-0000-0000-0000-000000000000>")
    _write_rows(copy / "releases.jsonl", rows)
    proc = verify(copy)
    assert proc.returncode == 1, proc.stdout
    out = proc.stdout
    assert "releases.jsonl line 3" in out and "is a 'request' record, not the response record" in out
    assert f"releases.jsonl line 5 ({rows[4]['release_id']})" in out
    assert f"holds WARC-Target-URI {rows[5]['url']}, but the row's url is {rows[4]['url']}" in out
    assert "releases.jsonl line 8" in out and "the pointer says <urn:uuid:00000000" in out
    assert "447 WARC pointers resolved" in out


def test_row_that_does_not_validate_fails(crawl: ArchiveCrawl, copy: Path) -> None:
    rows = [dict(row) for row in crawl.rows]
    rows[0]["hits"] = "many"
    _write_rows(copy / "releases.jsonl", rows)
    with (copy / "releases.jsonl").open("ab") as handle:
        handle.write(b'{"schema_version": 1, "url": "http://x/\xff"}\n{"partial": ')
    proc = verify(copy)
    assert proc.returncode == 1
    assert "releases.jsonl line 1" in proc.stdout and "release schema v1: at /hits" in proc.stdout
    assert "line 451: not valid UTF-8" in proc.stdout
    assert "the last line has no newline" in proc.stdout and "line 452: not valid JSON" in proc.stdout


def test_leftover_open_file_and_truncated_warc_fail(crawl: ArchiveCrawl, copy: Path) -> None:
    last = copy / "warc" / crawl.warc_files[-1].name
    data = last.read_bytes()
    shutil.copyfile(last, last.with_name(last.name + ".open"))
    last.write_bytes(data[:-200])
    proc = verify(copy)
    assert proc.returncode == 1
    assert f"{last.name}.open: an unfinished WARC (.open) file is left" in proc.stdout
    assert f"{last.name}: bytes " in proc.stdout and "the file ends inside this gzip member (truncated)" in proc.stdout
    assert f"fixity: {last.name}: sha256 mismatch" in proc.stdout


@pytest.mark.parametrize("kind", ["missing", "file", "not-a-crawl"])
def test_bad_input_is_one_clear_message_and_status_2(tmp_path: Path, kind: str) -> None:
    target = tmp_path / kind
    if kind == "file":
        target.write_text("x")
    elif kind == "not-a-crawl":
        target.mkdir()
    proc = verify(target)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"crawler verify: error: {target}") and proc.stderr.count("\n") == 1
