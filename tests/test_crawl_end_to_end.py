"""A real crawl of the simulated portal on loopback, checked against the simulator's truth and real WARC readers."""

from __future__ import annotations

import collections
import io
import json
import subprocess
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from pipelines.validate import release_validator
from tests.support.common import BIN, CrawlResult
from tests.support.truth import COMPARED_FIELDS, completeness, field_mismatches

SEED_TITLE = ("CPPCC Chairman Meeting of Binjiang District to Inspect the Deep Development Work of Maker Spaces")


def test_crawl_succeeds_and_reports_where_outputs_are(e2e_crawl: CrawlResult) -> None:
    assert e2e_crawl.returncode == 0, e2e_crawl.stdout[-3000:]
    assert "releases.jsonl" in e2e_crawl.stdout
    assert e2e_crawl.warc_files, "no closed WARC file"
    assert not list((e2e_crawl.out_dir / "warc").glob("*.open"))


def test_every_release_is_found_exactly_once(e2e_crawl: CrawlResult) -> None:
    found = completeness(e2e_crawl.rows, e2e_crawl.truth)
    assert found, found.describe()
    ids = [row["release_id"] for row in e2e_crawl.rows]
    assert len(set(ids)) == len(ids)


def test_every_field_equals_the_simulators_truth(e2e_crawl: CrawlResult) -> None:
    mismatches, examples = field_mismatches(e2e_crawl.rows, e2e_crawl.truth)
    assert not mismatches, f"{dict(mismatches)}; first of each: {examples}"


def test_the_seed_release(e2e_crawl: CrawlResult) -> None:
    [seed] = [row for row in e2e_crawl.rows if row["title"] == SEED_TITLE]
    assert seed["release_date"] == "2016-08-15"
    assert seed["release_datetime"] == "2016-08-15T11:16:50+08:00"
    assert seed["release_time_precision"] == "second"
    assert seed["hits"] is None
    assert seed["body_text"].startswith("On 21 Jul., CPPCC Chairman Meeting")
    assert seed["body_text"].endswith("retaining talents and cultivating culture.")
    for trace in ("Produced By", "ReleaseDate", "ArticleHits"):
        assert trace not in seed["body_text"]


def test_no_hit_counter_or_disallowed_request_reached_the_portal(e2e_crawl: CrawlResult) -> None:
    assert e2e_crawl.sim_stats["counter_hits"] == 0
    assert e2e_crawl.sim_stats["private_hits"] == 0


def test_warcs_pass_warcio_check_and_index_with_nothing_on_stderr(e2e_crawl: CrawlResult) -> None:
    for path in e2e_crawl.warc_files:
        check = subprocess.run([str(BIN / "warcio"), "check", "-v", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
        assert check.stderr == ""
        index = subprocess.run([str(BIN / "warcio"), "index", str(path)], capture_output=True, text=True)
        assert index.returncode == 0 and index.stderr == ""


def test_rows_validate_and_point_at_the_response_record_of_their_page(e2e_crawl: CrawlResult) -> None:
    validator = release_validator()  # formats (date, date-time) asserted
    warc_dir = e2e_crawl.out_dir / "warc"
    for row in e2e_crawl.rows:
        errors = list(validator.iter_errors(row))
        assert not errors, (row["url"], errors[0].message)
        pointer = row["warc"]
        with (warc_dir / pointer["filename"]).open("rb") as handle:
            handle.seek(pointer["offset"])
            member = handle.read(pointer["length"])
        record = next(iter(ArchiveIterator(io.BytesIO(member))))
        assert record.rec_type == "response"
        assert record.rec_headers.get_header("WARC-Target-URI") == row["url"]
        assert record.rec_headers.get_header("WARC-Record-ID") == pointer["record_id"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == pointer["payload_digest"]
        page = record.content_stream().read()
        assert b"art_" in page or b"<html" in page.lower()


def test_list_pages_are_asked_for_as_a_browser_asks(e2e_crawl: CrawlResult) -> None:
    """Every column of the classic portal declares a jpage call: a browser POSTs startrecord/endrecord/perpage with
    the call's ajaxParam form, and so does the crawl (what a person paging the column in pywb asks the archive
    for); the <nextgroup> GET form is only the fallback (tests/test_list_walk.py)."""
    methods: collections.Counter[str] = collections.Counter()
    bodies = []
    for path in e2e_crawl.warc_files:
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if record.rec_type == "request" and "dataproxy.jsp" in uri:
                    methods[record.http_headers.protocol] += 1
                    if record.http_headers.protocol == "POST":
                        assert "startrecord=" in uri and "endrecord=" in uri and "perpage=" in uri, uri
                        bodies.append(record.content_stream().read().decode("utf-8"))
    assert methods["POST"] > 0 and methods["GET"] == 0, methods
    assert all("columnid=" in body and "unitid=" in body for body in bodies), bodies[:2]


def test_cli_extract_makes_the_same_record_from_a_saved_page(e2e_crawl: CrawlResult, tmp_path: Path) -> None:
    row = next(r for r in e2e_crawl.rows if r["language"] == "zh" and r["hits"] is not None)
    pointer = row["warc"]
    with (e2e_crawl.out_dir / "warc" / pointer["filename"]).open("rb") as handle:
        handle.seek(pointer["offset"])
        record = next(iter(ArchiveIterator(io.BytesIO(handle.read(pointer["length"])))))
        content_type = record.http_headers.get_header("Content-Type")
        body = record.content_stream().read()
    page = tmp_path / "page.html"
    page.write_bytes(body)
    args = [str(BIN / "crawler"), "extract", str(page), "--url", row["url"], "--compact"]
    if content_type:
        args += ["--content-type", content_type]
    proc = subprocess.run(args, capture_output=True, text=True, check=True)
    record_out = json.loads(proc.stdout)
    for name in COMPARED_FIELDS:
        assert record_out[name] == row[name], name
    assert record_out["warc"] is None and record_out["fetched_at"] is None
