"""A real Scrapy crawl (subprocess) of a loopback server, with WarcCaptureExtension + JsonlExportPipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from archives.fixity import verify_fixity
from tests.support.helpers_http import (
    CHUNKED_BODY,
    COOKIES,
    GZIP_BODY,
    _Handler,
    assert_warcio_valid,
    fixture_server,
    read_member,
    read_records,
    sha1_b32,
)

ROOT = Path(__file__).resolve().parents[1]

CRAWL_SCRIPT = textwrap.dedent(
    """
    import json, resource, signal, sys, warnings
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.exceptions import ScrapyDeprecationWarning
    from crawler.meta import capture_pointer

    warnings.simplefilter("always", ScrapyDeprecationWarning)
    base, out, fsize = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if fsize:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    class FixtureSpider(scrapy.Spider):
        name = "fixture"

        async def start(self):
            for path in ["/gzip", "/chunked", "/cookies", "/redirect", "/nocontent"]:
                yield scrapy.Request(base + path)
            yield scrapy.FormRequest(
                base + "/post?startrecord=1&endrecord=45&perpage=15",
                formdata={"col": "1", "webid": "2", "path": "/"},
            )
            if fsize:
                for i in range(4):
                    yield scrapy.Request(base + f"/large?n={i}")

        def parse(self, response):
            pointer = capture_pointer(response)
            yield {"url": response.url, "status": response.status, "warc": pointer and pointer.as_dict(),
                   "text": response.body.decode("utf-8", "replace")[:40]}

    process = CrawlerProcess(settings={
        "EXTENSIONS": {"archives.components.capture.WarcCaptureExtension": 500},
        "ITEM_PIPELINES": {"archives.components.jsonl_export.JsonlExportPipeline": 900},
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,  # CookiesMiddleware's tldextract would fetch the PSL from the internet
        "HTTPERROR_ALLOW_ALL": True,
        "CONCURRENT_REQUESTS": 1 if fsize else 8,
        "DEFAULT_REQUEST_HEADERS": {"Accept": "text/html", "Accept-Encoding": "gzip, deflate"},
        "WARC_OUTPUT_DIR": out + "/warc",
        "WARC_OPERATOR": "tests",
        "JSONL_OUTPUT_PATH": out + "/releases.jsonl",
        "LOG_LEVEL": "INFO",
    })
    crawler = process.create_crawler(FixtureSpider)
    process.crawl(crawler)
    process.start()
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, (int, float, str))}
    with open(out + "/stats.json", "w") as fh:
        json.dump(stats, fh)
    """
)


def run_crawl(tmp_path: Path, fsize: int = 0) -> tuple[dict[str, Any], str]:
    _Handler.posted.clear()
    with fixture_server() as base:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(
            [sys.executable, "-c", CRAWL_SCRIPT, base, str(tmp_path), str(fsize)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads((tmp_path / "stats.json").read_text())
    return stats, proc.stderr


def _path(record: dict[str, Any]) -> str:
    return record["rec"].get_header("WARC-Target-URI").split("/", 3)[3]


def jsonl_rows(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    text = raw.decode("utf-8", "strict")
    assert len(text.splitlines()) == text.count("\n")
    return [json.loads(line) for line in text.splitlines()]


def check_rows_resolve(warc_dir: Path, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        ptr = row["warc"]
        assert ptr["url"] == row["url"]
        rec = read_member(warc_dir / ptr["filename"], ptr["offset"], ptr["length"])
        assert rec["type"] == "response"
        assert rec["rec"].get_header("WARC-Target-URI") == row["url"]
        assert rec["rec"].get_header("WARC-Record-ID") == ptr["record_id"]
        assert rec["rec"].get_header("WARC-Payload-Digest") == ptr["payload_digest"]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    tmp_path = tmp_path_factory.mktemp("crawl")
    stats, log = run_crawl(tmp_path)
    return tmp_path, stats, log


def test_crawl_finishes_cleanly(crawl) -> None:
    _, stats, log = crawl
    assert stats["finish_reason"] == "finished", log[-3000:]
    assert stats.get("log_count/ERROR", 0) == 0, log[-3000:]
    assert "DeprecationWarning" not in log, log
    assert stats["warc/responses"] == 7  # gzip, chunked, cookies, 302, target, 204, POST
    assert stats["releases/written"] == stats["item_scraped_count"] == 6


def test_warc_files_validate(crawl) -> None:
    tmp_path, _, _ = crawl
    warc_dir = tmp_path / "warc"
    files = sorted(warc_dir.glob("*.warc.gz"))
    assert files and not list(warc_dir.glob("*.open"))
    assert_warcio_valid(*files)
    assert verify_fixity(warc_dir) == []


def test_records_match_the_wire(crawl) -> None:
    tmp_path, _, _ = crawl
    records = [r for f in sorted((tmp_path / "warc").glob("*.warc.gz")) for r in read_records(f)]
    info = records[0]
    assert info["type"] == "warcinfo"
    assert b"reconstructed from what Scrapy keeps" in info["raw"] and b"robots: ignore" in info["raw"]
    assert b"operator: tests" in info["raw"]
    resp = {_path(r): r for r in records if r["type"] == "response"}
    req = {_path(r): r for r in records if r["type"] == "request"}
    for r in resp.values():
        assert r["http"].get_header("Transfer-Encoding") is None
        assert int(r["http"].get_header("Content-Length")) == len(r["raw"])
        assert r["rec"].get_header("WARC-IP-Address") == "127.0.0.1"
        assert r["rec"].get_header("WARC-Payload-Digest") == sha1_b32(r["raw"])
    gz = resp["gzip"]
    assert gz["http"].get_header("Content-Encoding") == "gzip"
    assert gz["raw"] == GZIP_BODY and gz["rec"].get_header("WARC-Payload-Digest") == sha1_b32(GZIP_BODY)
    assert req["gzip"]["http"].get_header("Accept-Encoding") == "gzip, deflate"
    assert resp["chunked"]["raw"] == CHUNKED_BODY
    assert [v for n, v in resp["cookies"]["http"].headers if n == "Set-Cookie"] == COOKIES
    assert len([v for n, v in resp["cookies"]["http"].headers if n == "Link"]) == 2
    assert resp["redirect"]["http"].statusline == "302 Found"
    assert resp["target?x=1"]["http"].statusline == "200 OK"
    assert resp["nocontent"]["http"].statusline == "204 No Content" and resp["nocontent"]["raw"] == b""
    post_key = "post?startrecord=1&endrecord=45&perpage=15"
    post = req[post_key]
    assert post["http"].protocol == "POST"
    assert post["http"].statusline == f"/{post_key} HTTP/1.1"
    assert post["raw"] == b"col=1&webid=2&path=%2F"
    for key, r in resp.items():
        pair = req[key]
        assert pair["rec"].get_header("WARC-Concurrent-To") == r["rec"].get_header("WARC-Record-ID")
        assert pair["rec"].get_header("WARC-Date") == r["rec"].get_header("WARC-Date")
    logs = [r for r in records if r["type"] == "resource"]
    assert len(logs) == 1
    assert logs[0]["rec"].get_header("WARC-Target-URI").startswith("urn:x-crawl-log:fixture:")
    assert b"Spider opened" in logs[0]["raw"] and b"Enabled extensions" in logs[0]["raw"]
    assert b"close reason: finished" in logs[0]["raw"]


def test_jsonl_rows_point_to_their_records(crawl) -> None:
    tmp_path, _, _ = crawl
    rows = jsonl_rows(tmp_path / "releases.jsonl")
    post = "post?startrecord=1&endrecord=45&perpage=15"
    expected = ["gzip", "chunked", "cookies", "target?x=1", "nocontent", post]
    assert sorted(r["url"].split("/", 3)[3] for r in rows) == sorted(expected)
    assert all(list(r) == ["url", "status", "warc", "text"] for r in rows)
    check_rows_resolve(tmp_path / "warc", rows)
    gzip_row = next(r for r in rows if r["url"].endswith("/gzip"))
    assert gzip_row["text"].startswith("<html><head><title>压缩页面")  # callback saw the decoded body


def test_disk_full_closes_spider_and_keeps_archive_valid(tmp_path: Path) -> None:
    stats, log = run_crawl(tmp_path, fsize=1_200_000)
    assert stats["finish_reason"] == "warc_write_failed", log[-3000:]
    assert "EFBIG" in log and "warc_write_failed" in log
    warc_dir = tmp_path / "warc"
    files = sorted(warc_dir.glob("*.warc.gz"))
    assert len(files) == 1 and not list(warc_dir.glob("*.open"))
    assert_warcio_valid(*files)
    rows = jsonl_rows(tmp_path / "releases.jsonl")
    check_rows_resolve(warc_dir, rows)
    assert stats["warc/write_failed"] == 1 and stats["warc/responses"] < 10
    assert stats.get("releases/written", 0) == len(rows)
    assert b"close reason: warc_write_failed" in read_records(files[0])[-1]["raw"]
