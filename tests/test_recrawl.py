"""Offline recrawl: the spider re-runs the whole crawl against WARC files, POSTs matched on method and body."""

from __future__ import annotations

from pathlib import Path

import pytest

from archives.capture_index import CaptureIndex
from tests.support.archive_crawl import ArchiveCrawl, archive_crawl
from tests.support.common import read_jsonl, run_cli

FETCH_FIELDS = ("fetched_at",)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> ArchiveCrawl:
    return archive_crawl(tmp_path_factory)


def test_post_lookup_matches_method_url_and_body_exactly(crawl: ArchiveCrawl) -> None:
    index = CaptureIndex([crawl.warc_dir])
    posts = crawl.posts()
    assert len(posts) >= 2
    for post in posts:
        stored = index.lookup("POST", post.url, post.request_body)
        assert stored is not None, post.url
        assert stored.body == post.decoded
    # two POSTs to one URL with different bodies (which POST the WARC holds first depends on the crawl's timing)
    pairs = [(a, b) for a in posts for b in posts if a.url == b.url and a.request_body != b.request_body]
    assert pairs, "the fixture has two POSTs to one URL with different bodies"
    first, other = pairs[0]
    assert index.lookup("POST", first.url, other.request_body).body != first.decoded
    assert index.lookup("POST", first.url, first.request_body + b"&x=1") is None
    assert index.lookup("GET", first.url) is None
    assert index.lookup("GET", crawl.base_url + "never-captured.html") is None


def test_recrawl_from_warcs_alone_finds_every_release_again(crawl: ArchiveCrawl, tmp_path: Path) -> None:
    out = tmp_path / "recrawled.jsonl"
    # The simulator that served the crawl is gone: every answer must come from the WARC files.
    proc = run_cli("recrawl", str(crawl.warc_dir), "--start-url", crawl.base_url,
                   "--out", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert " 0 not captured" in proc.stdout, proc.stdout
    recrawled = {row["url"]: row for row in read_jsonl(out)}
    live = {row["url"]: row for row in crawl.rows}
    assert recrawled.keys() == live.keys()
    for url, row in live.items():
        again = recrawled[url]
        assert {k: v for k, v in again.items() if k not in FETCH_FIELDS} == {
            k: v for k, v in row.items() if k not in FETCH_FIELDS}, url
    assert not list(out.parent.glob("*.warc.gz")), "a recrawl must not write WARC files"


def test_a_recrawl_that_reaches_nothing_says_so_and_fails(crawl: ArchiveCrawl, tmp_path: Path) -> None:
    """A start URL the WARC files never captured: the verdict of a crawl that archived nothing, and its exit
    status (it used to exit 0 because the engine finished)."""
    proc = run_cli("recrawl", str(crawl.warc_dir), "--start-url", crawl.base_url + "never/captured/",
                   "--out", str(tmp_path / "recrawled.jsonl"))
    assert proc.returncode not in (0, 2), proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "FAILED" in proc.stdout.splitlines()[-1], proc.stdout


def test_a_recrawl_of_a_file_that_is_not_a_warc_is_refused_before_it_runs(tmp_path: Path) -> None:
    (tmp_path / "x.warc.gz").write_bytes(b"\x00not a warc" * 50)
    proc = run_cli("recrawl", str(tmp_path), "--start-url", "http://127.0.0.1:9/", "--out", str(tmp_path / "r.jsonl"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "x.warc.gz" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r.jsonl").exists()
