"""`crawler index` (sorted CDXJ, POST keyed with its body) and `crawler wacz` (pages from our rows), on a real crawl."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import pytest

from archives import wacz_package
from archives.cdxj import read_cdxj
from archives.fixity import read_manifest
from tests.support.archive_crawl import ArchiveCrawl, archive_crawl
from tests.support.common import BIN, run_cli


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> ArchiveCrawl:
    return archive_crawl(tmp_path_factory)


@pytest.fixture(scope="module")
def index(crawl: ArchiveCrawl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("index") / "crawl.cdxj"
    proc = run_cli("index", str(crawl.warc_dir), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    return out


@pytest.fixture(scope="module")
def wacz_file(crawl: ArchiveCrawl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wacz") / "crawl.wacz"
    proc = run_cli("wacz", str(crawl.out_dir), "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "450 pages" in proc.stdout
    return out


def test_the_shared_crawl_spans_several_warc_files_and_post_captures(crawl: ArchiveCrawl) -> None:
    assert len(crawl.warc_files) >= 2
    posts = crawl.posts()
    assert len(posts) >= 6  # every column pages by jpage POST (a group at a time, then one past the end)
    assert len({p.url for p in posts}) < len(posts), "some POST captures should share a URL"


def test_index_is_sorted_bytewise_and_has_one_line_per_response(crawl: ArchiveCrawl, index: Path) -> None:
    raw = index.read_bytes().splitlines()
    assert raw == sorted(raw), "CDXJ lines are not in byte order"
    rows = read_cdxj(index)
    indexed = {(f["filename"], int(f["offset"])) for _, _, f in rows if f["url"].startswith("http")}
    responses = {(e.filename, e.offset) for e in crawl.exchanges}
    assert indexed == responses
    assert {f["filename"] for _, _, f in rows} == {p.name for p in crawl.warc_files}


def test_index_equals_what_the_cdxj_indexer_command_writes(crawl: ArchiveCrawl, index: Path) -> None:
    proc = subprocess.run([str(BIN / "cdxj-indexer"), "--post-append", "--sort", *map(str, crawl.warc_files)],
                          capture_output=True, text=True, timeout=120, check=True)
    assert index.read_text(encoding="utf-8") == proc.stdout


def test_post_lines_are_keyed_with_their_body(crawl: ArchiveCrawl, index: Path) -> None:
    rows = read_cdxj(index)
    post_rows = [(key, fields) for key, _, fields in rows if fields.get("method") == "POST"]
    assert len(post_rows) == len(crawl.posts()) >= 6
    keys = [key for key, _ in post_rows]
    assert len(set(keys)) == len(keys), "two POST captures share one index key"
    by_offset = {(f["filename"], int(f["offset"])): (key, f) for key, f in post_rows}
    for post in crawl.posts():
        key, fields = by_offset[(post.filename, post.offset)]
        body = post.request_body.decode("ascii")
        assert "__wb_method=post" in key
        assert fields["requestBody"] == unquote_plus(body)
        for name, value in parse_qsl(body):
            if value.isascii():
                assert f"{name}={value}".lower() in key.lower(), (name, value, key)
    # GET pages (column pages, releases) keep a plain key
    gets = [key for key, _, f in rows if "method" not in f]
    assert gets and not any("__wb_method" in key for key in gets)


def test_index_accepts_files_and_rejects_bad_input(crawl: ArchiveCrawl, tmp_path: Path) -> None:
    one = crawl.warc_files[0]
    proc = run_cli("index", str(one), "-o", str(tmp_path / "one.cdxj"))
    assert proc.returncode == 0, proc.stderr
    assert {f["filename"] for _, _, f in read_cdxj(tmp_path / "one.cdxj")} == {one.name}

    missing = tmp_path / "no-such-dir"
    proc = run_cli("index", str(missing), "-o", str(tmp_path / "x.cdxj"))
    assert proc.returncode == 2
    assert str(missing) in proc.stderr and "no such file or directory" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr

    not_warc = tmp_path / "notes.warc.gz"
    not_warc.write_bytes(b"just some text\n")
    proc = run_cli("index", str(one), str(not_warc), "-o", str(tmp_path / "x.cdxj"))
    assert proc.returncode == 2
    assert str(not_warc) in proc.stderr and "not a WARC" in proc.stderr
    assert not (tmp_path / "x.cdxj").exists()

    proc = run_cli("index", str(crawl.warc_dir / "manifest-sha256.txt"), "-o", str(tmp_path / "x.cdxj"))
    assert proc.returncode == 2 and "manifest-sha256.txt" in proc.stderr


# -- WACZ -------------------------------------------------------------------------------------------------------


def _pages(wacz: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with zipfile.ZipFile(wacz) as archive:
        lines = archive.read("pages/pages.jsonl").decode("utf-8").splitlines()
    header, *pages = (json.loads(line) for line in lines)
    return header, pages


def test_wacz_has_one_page_per_release_with_the_capture_time(crawl: ArchiveCrawl, wacz_file: Path) -> None:
    header, pages = _pages(wacz_file)
    assert header["format"] == "json-pages-1.0"
    assert len(pages) == len(crawl.rows) == 450
    by_url = {row["url"]: row for row in crawl.rows}
    assert {p["url"] for p in pages} == set(by_url)
    for page in pages:
        row = by_url[page["url"]]
        exchange = crawl.response_for(page["url"])
        assert page["ts"][:19] == exchange.warc_date[:19], page["url"]
        assert page["title"] == row["title"]
        assert page["text"] == row["body_text"]
        assert page["id"] == row["release_id"]


def test_wacz_holds_the_warc_files_unchanged(crawl: ArchiveCrawl, wacz_file: Path) -> None:
    import hashlib

    manifest = {name: digest for digest, name in read_manifest(crawl.warc_dir)}
    with zipfile.ZipFile(wacz_file) as archive:
        names = archive.namelist()
        archived = sorted(n for n in names if n.startswith("archive/"))
        assert archived == [f"archive/{p.name}" for p in crawl.warc_files]
        for name in archived:
            digest = hashlib.sha256(archive.read(name)).hexdigest()
            assert digest == manifest[name.removeprefix("archive/")]
        assert {"datapackage.json", "datapackage-digest.json", "indexes/index.cdx.gz"} <= set(names)


def test_wacz_validate_passes(wacz_file: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(wacz_file)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation succeeded" in proc.stdout


def test_wacz_drops_a_page_whose_ts_is_not_the_warc_date(crawl: ArchiveCrawl, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The pitfall itself: a page one second off its record is silently dropped by wacz, and we fail loudly."""
    real_build = wacz_package.build_pages

    def off_by_one_second(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        pages = real_build(*args, **kwargs)
        ts = pages[1]["ts"]
        second = (int(ts[17:19]) + 1) % 60
        pages[1]["ts"] = f"{ts[:17]}{second:02d}{ts[19:]}"
        return pages

    monkeypatch.setattr(wacz_package, "build_pages", off_by_one_second)
    with pytest.raises(wacz_package.WaczError, match="kept 449 of 450 pages"):
        wacz_package.package_crawl(crawl.out_dir, tmp_path / "bad.wacz")
    assert not (tmp_path / "bad.wacz").exists()


def test_wacz_rejects_bad_input(crawl: ArchiveCrawl, tmp_path: Path) -> None:
    proc = run_cli("wacz", str(tmp_path / "missing"), "-o", str(tmp_path / "x.wacz"))
    assert proc.returncode == 2 and "missing: no such directory" in proc.stderr

    proc = run_cli("wacz", str(tmp_path), "-o", str(tmp_path / "x.wacz"))
    assert proc.returncode == 2 and "no warc/ subdirectory" in proc.stderr

    unfinished = tmp_path / "unfinished"
    (unfinished / "warc").mkdir(parents=True)
    (unfinished / "warc" / "crawl-1-00000-h.warc.gz.open").write_bytes(crawl.warc_files[0].read_bytes()[:500])
    proc = run_cli("wacz", str(unfinished), "-o", str(tmp_path / "x.wacz"))
    assert proc.returncode == 2 and ".open" in proc.stderr and str(unfinished) in proc.stderr
    assert not (tmp_path / "x.wacz").exists()
