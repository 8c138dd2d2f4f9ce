"""The archive invariants every fault test ends with (RELIABILITY.md section 2, "Each ends by checking").

- every WARC passes ``warcio check -v`` and ``warcio index`` with exit 0 and an empty stderr;
- no ``.open`` file is left after a clean exit;
- every HTTP ``Content-Length`` equals the stored body length and no ``Transfer-Encoding: chunked`` is stored;
- every JSONL file (releases, failures) is strict UTF-8, one object per physical line
  (``str.splitlines()`` count == ``\\n`` count), every line ``json.loads`` to an object;
- every JSONL row's ``warc`` pointer resolves to a response record: its byte range is exactly one gzip member
  whose record has the same ``WARC-Record-ID`` and a ``WARC-Target-URI`` equal to the row's ``url``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

VENV_BIN = Path(sys.executable).parent


def read_jsonl_strict(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file, asserting strict UTF-8 and one object per physical line."""
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf"), f"{path}: BOM"
    text = data.decode("utf-8", "strict")
    assert text == "" or text.endswith("\n"), f"{path}: partial last line"
    assert len(text.splitlines()) == text.count("\n"), f"{path}: a line break inside a row"
    rows = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(row, dict) for row in rows), f"{path}: a line is not an object"
    return rows


def _warcio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "warcio"), *args], capture_output=True, text=True, timeout=120)


def assert_warcs_valid(warcs: list[Path]) -> None:
    """warcio check and index: exit 0, empty stderr, and stored framing consistent with the body."""
    check = _warcio("check", "-v", *map(str, warcs))
    assert check.returncode == 0 and check.stderr == "", check.stdout[-3000:] + check.stderr[-3000:]
    index = _warcio("index", "-f", "warc-type,warc-target-uri,content-length,offset", *map(str, warcs))
    assert index.returncode == 0 and index.stderr == "", index.stderr[-3000:]
    for path in warcs:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                body = record.raw_stream.read()
                length = record.http_headers.get_header("Content-Length")
                assert length is not None and int(length) == len(body), (path, record.rec_headers)
                te = (record.http_headers.get_header("Transfer-Encoding") or "").lower()
                assert "chunked" not in te, (path, record.rec_headers)


def resolve_pointer(warc_dir: Path, pointer: dict[str, Any]) -> Any:
    """Read the record at a pointer's byte range, asserting the range is exactly one gzip member."""
    path = warc_dir / pointer["filename"]
    assert path.is_file(), f"pointer to a missing WARC file: {pointer}"
    with path.open("rb") as handle:
        handle.seek(pointer["offset"])
        data = handle.read(pointer["length"])
    inflater = zlib.decompressobj(wbits=31)
    inflater.decompress(data)
    assert inflater.eof and inflater.unused_data == b"", f"not exactly one gzip member: {pointer}"
    records = list(ArchiveIterator(BytesIO(data)))
    assert len(records) == 1, pointer
    return records[0]


def assert_archive_invariants(out_dir: Path, *, clean_exit: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Check every invariant on a crawl's output directory; return the JSONL rows by file name."""
    warc_dir = out_dir / "warc"
    warcs = sorted(warc_dir.glob("*.warc.gz"))
    if clean_exit:
        assert not list(warc_dir.glob("*.open")), f"left open: {list(warc_dir.glob('*.open'))}"
    if warcs:
        assert_warcs_valid(warcs)
    rows_by_file: dict[str, list[dict[str, Any]]] = {}
    for jsonl in sorted(out_dir.glob("*.jsonl")):
        rows = read_jsonl_strict(jsonl)
        rows_by_file[jsonl.name] = rows
        for row in rows:
            pointer = row.get("warc")
            if not pointer:
                continue
            record = resolve_pointer(warc_dir, pointer)
            assert record.rec_type == "response", pointer
            assert record.rec_headers.get_header("WARC-Record-ID") == pointer["record_id"], pointer
            assert record.rec_headers.get_header("WARC-Target-URI") == row["url"], (row["url"], pointer)
    return rows_by_file


# -- the conservation law of issue 13 (every release URL learnt ends as a row, a failure row or a counted skip) --

def load_report(out_dir: Path) -> dict[str, Any]:
    """``report.json`` of the crawl in *out_dir*, validated against its schema."""
    from crawler.report.write import validate_report

    report: dict[str, Any] = json.loads((out_dir / "report.json").read_text("utf-8"))
    validate_report(report)
    return report


def _rows_of_run(out_dir: Path, report: dict[str, Any]) -> list[dict[str, Any]]:
    outputs = report["outputs"]
    path = out_dir / "releases.jsonl"
    if not path.exists():
        return []
    data = path.read_bytes()[outputs["releases_offset_start"]:outputs["releases_offset_end"]]
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def assert_accounted(out_dir: Path, returncode: int | None = None, *, allow_unaccounted: bool = False
                     ) -> dict[str, Any]:
    """The conservation law, from the outputs of the latest run in *out_dir* (its report.json, its byte range of
    releases.jsonl, its failure rows by run_id):

    - every release URL learnt is archived, failed or skipped, and the counts add up by reason;
    - each archived release is one row of this run, each failed one exactly one failure row of this run (with a
      reason, the run id, the portal), and no URL is both a row and a failure row;
    - failures.jsonl holds failures only (no robots / off-site skips);
    - nothing reached the end without an outcome (``unaccounted``: a loss path nobody recorded);
    - the verdict agrees: a failed or skipped-by-limit release is never ``complete``; the exit status is the
      verdict's (when *returncode* is given).

    Returns the report.
    """
    report = load_report(out_dir)
    releases, verdict = report["releases"], report["verdict"]
    if returncode is not None:
        assert returncode == verdict["exit_status"], (returncode, verdict)
    if "disk full" in verdict["reason"]:  # rows and failure rows the full disk refused: the run is failed
        assert verdict["outcome"] == "failed", verdict
        return report
    assert releases["learnt"] == releases["archived"] + releases["failed"] + releases["skipped"], releases
    assert releases["failed"] == sum(releases["failed_by_reason"].values()), releases
    assert releases["skipped"] == sum(releases["skipped_by_reason"].values()), releases
    if not allow_unaccounted:
        assert releases["unaccounted"] == 0, f"release URLs with no recorded outcome: {releases}"
    rows = _rows_of_run(out_dir, report)
    assert len(rows) == releases["rows_written"] == releases["archived"] + releases["rows_unlisted"], (
        len(rows), releases)
    failures = [f for f in read_jsonl_strict(out_dir / "failures.jsonl")
                if f.get("run_id") == report["run_id"]] if (out_dir / "failures.jsonl").exists() else []
    for failure in failures:
        assert failure["status"] == "failed" and failure["reason"], failure
        assert failure["reason"] not in ("robots", "offsite"), f"a skip written as a failure row: {failure}"
        assert failure["portal"] == report["portal"], failure
        assert "via" in failure and isinstance(failure["release"], bool), failure
    release_failures = [f for f in failures if f["release"]]
    assert len(release_failures) == releases["failed"], (len(release_failures), releases["failed_by_reason"],
                                                          [f["reason"] for f in release_failures][:20])
    failed_urls: set[str] = set()
    for failure in release_failures:
        failed_urls |= {failure["url"], *(failure.get("redirect_urls") or [])}
    row_urls = [row["url"] for row in rows]
    assert len(set(row_urls)) == len(row_urls), "a URL has two rows in one run"
    both = failed_urls & set(row_urls)
    assert not both, f"URLs with both a release row and a failure row: {sorted(both)[:5]}"
    lost = releases["failed"] + sum(v for k, v in releases["skipped_by_reason"].items()
                                    if k in ("depth_limit", "url_too_long", "host_page_cap"))
    if lost:
        assert verdict["outcome"] not in ("complete", "flagged"), verdict
    return report
