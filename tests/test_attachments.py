"""Attachments: every file within the limit archived exactly once, listed with a pointer that opens its bytes;
oversize files listed as skipped with the reason in a WARC metadata record; shared files fetched once."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from archives.skip_records import parse_warc_fields
from crawler.fetch.asset_scope import AssetScope, parse_asset_hosts
from simulator.server import DOWNLOAD_TYPES, attachment_body
from tests.support.asset_crawl import LIMIT, AssetCrawl, asset_crawl, crawl, read_records
from tests.support.common import read_jsonl, run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> AssetCrawl:
    result = asset_crawl(tmp_path_factory.getbasetemp())
    assert result.returncode == 0, result.output[-3000:]
    return result


def _filename(url: str) -> str:
    parts = urlsplit(url)
    return parse_qs(parts.query).get("filename", [parts.path.rsplit("/", 1)[-1]])[0]


def _sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _linked(run: AssetCrawl) -> dict[str, list[str]]:
    """Attachment URL -> the release URLs linking it, from the simulator's truth."""
    base, asset = run.base_url.rstrip("/"), f"http://{run.asset_host}"
    linked: dict[str, list[str]] = {}
    for i in range(run.portal.releases):
        truth = run.portal.truth(i, base, asset)
        for attachment in truth["attachments"]:
            linked.setdefault(attachment["url"], []).append(truth["url"])
    return linked


def test_every_attachment_within_the_limit_is_archived_exactly_once(run: AssetCrawl) -> None:
    responses = run.by_url("response")
    linked = _linked(run)
    small = [u for u in linked if len(attachment_body(_filename(u))) <= LIMIT]
    large = [u for u in linked if len(attachment_body(_filename(u))) > LIMIT]
    assert len(small) > 30 and len(large) >= 2  # the fixture must exercise both
    assert any(urlsplit(u).hostname == "127.0.0.2" for u in small), "no attachment on the asset host"
    assert any(len(v) > 1 for v in linked.values()), "no attachment shared by several releases"
    for url in small:
        records = responses.get(url, [])
        assert len(records) == 1, (url, len(records))
        assert records[0].status == 200 and records[0].payload == attachment_body(_filename(url))
    for url in large:
        assert url not in responses, f"oversize file {url} was written to WARC"
    assert run.sim_stats["requests"]["asset_download"] > 0


def test_rows_list_attachments_with_pointers_that_open_the_files_bytes(run: AssetCrawl) -> None:
    base, asset = run.base_url.rstrip("/"), f"http://{run.asset_host}"
    truth = {t["url"]: t for t in (run.portal.truth(i, base, asset) for i in range(run.portal.releases))}
    assert {row["url"] for row in run.rows} == set(truth)
    archived = 0
    for row in run.rows:
        expected = truth[row["url"]]["attachments"]
        assert [(a["url"], a["name"]) for a in row["attachments"] or []] == [(a["url"], a["name"]) for a in expected]
        for attachment in row["attachments"] or []:
            body = attachment_body(_filename(attachment["url"]))
            assert attachment["content_type"] == DOWNLOAD_TYPES[_filename(attachment["url"]).rsplit(".", 1)[1]]
            if len(body) > LIMIT:
                continue
            pointer = attachment["warc"]
            with (run.warc_dir / pointer["filename"]).open("rb") as handle:
                handle.seek(pointer["offset"])
                member = handle.read(pointer["length"])
            record = next(iter(ArchiveIterator(io.BytesIO(member))))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == attachment["url"]
            assert record.rec_headers.get_header("WARC-Record-ID") == pointer["record_id"]
            assert record.content_stream().read() == body
            assert attachment["size"] == len(body)
            assert attachment["payload_digest"] == pointer["payload_digest"] == _sha1(body)
            archived += 1
    assert archived > 30


def test_oversize_attachments_are_listed_as_skipped_with_the_reason_in_the_warc(run: AssetCrawl) -> None:
    skips = {r.url: parse_warc_fields(r.payload) for r in run.records if r.rec_type == "metadata"}
    seen = 0
    for row in run.rows:
        for attachment in row["attachments"] or []:
            body = attachment_body(_filename(attachment["url"]))
            if len(body) <= LIMIT:
                assert attachment["url"] not in skips
                continue
            seen += 1
            assert attachment["warc"] is None and attachment["payload_digest"] is None
            fields = skips[attachment["url"]]
            assert fields["skipped"] == "size-limit" and fields["limit"] == str(LIMIT)
            assert "ATTACHMENTS_MAX_SIZE" in fields["reason"]
            # the declared size when the server sent a Content-Length, null when it streamed the file chunked
            chunked = int(_filename(attachment["url"])[2], 16) % 2 == 1
            assert attachment["size"] == (None if chunked else len(body))
    assert seen >= 2


def test_an_attachment_linked_from_several_releases_is_captured_once_and_its_pointer_reused(run: AssetCrawl) -> None:
    pointers: dict[str, set[tuple[str, int]]] = {}
    for row in run.rows:
        for attachment in row["attachments"] or []:
            if attachment["warc"]:
                pointers.setdefault(attachment["url"], set()).add(
                    (attachment["warc"]["filename"], attachment["warc"]["offset"]))
    shared = [url for url, links in _linked(run).items() if len(links) > 1]
    assert shared
    for url in shared:
        assert len(pointers[url]) == 1, url
    assert run.sim_stats["requests"]["download"] + run.sim_stats["requests"]["asset_download"] == len(_linked(run))


def test_replay_fills_attachments_as_the_live_crawl_did(run: AssetCrawl, tmp_path: Path) -> None:
    out = tmp_path / "replayed.jsonl"
    proc = run_cli("replay", str(run.warc_dir), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    replayed = {row["url"]: row["attachments"] for row in read_jsonl(out)}
    assert replayed == {row["url"]: row["attachments"] for row in run.rows}


def test_switched_off_nothing_but_pages_is_fetched(tmp_path: Path) -> None:
    out_dir, _base, _asset, stats, proc = crawl(tmp_path / "off", 60, "ATTACHMENTS_ENABLED=False",
                                                 "REQUISITES_ENABLED=False")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "download" not in stats["requests"] and "requisite" not in stats["requests"]
    rows = read_jsonl(out_dir / "releases.jsonl")
    listed = [a for row in rows for a in row["attachments"] or []]
    assert listed and all(a["warc"] is None and a["size"] is None for a in listed)
    assert not [r for r in read_records(out_dir / "warc") if "/jcms_files/" in r.url or ".css" in r.url]


def test_out_of_scope_files_are_not_fetched_and_say_so(tmp_path: Path) -> None:
    """Without --asset-hosts the object store is offsite: its files are skipped, the portal's still archived."""
    out_dir, _base, _asset, stats, proc = crawl(tmp_path / "scope", 60, "REQUISITES_ENABLED=False",
                                                 asset_hosts=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "asset_download" not in stats["requests"] and stats["requests"]["download"] > 0
    records = read_records(out_dir / "warc")
    skipped = {r.url: parse_warc_fields(r.payload)["skipped"] for r in records if r.rec_type == "metadata"}
    rows = read_jsonl(out_dir / "releases.jsonl")
    on_store = [a for row in rows for a in row["attachments"] or [] if "/jcms_files/" in a["url"]]
    assert on_store and all(a["warc"] is None and skipped[a["url"]] == "out-of-scope" for a in on_store)


def test_asset_hosts_are_exact_names_and_bad_ones_are_refused(tmp_path: Path) -> None:
    scope = AssetScope(["www.example.gov.cn"], parse_asset_hosts("oss.example.cn, CDN.example.cn"))
    assert scope.allows("http://www.example.gov.cn:8080/a.pdf") and scope.allows("https://cdn.example.cn/x.js")
    assert scope.allows("http://sub.www.example.gov.cn/a.pdf")
    assert not scope.allows("http://sub.oss.example.cn/a.pdf") and not scope.allows("http://evil.example/a.pdf")
    assert not scope.allows("ftp://oss.example.cn/a.pdf")
    with pytest.raises(ValueError, match="PORTAL_ASSET_HOSTS"):
        parse_asset_hosts(["http://oss.example.cn/"])
    proc = run_cli("crawl", "--start-url", "http://127.0.0.1:9/", "--portal", "demo", "--out", str(tmp_path / "x"),
                   "--asset-hosts", "oss.example.cn:443")
    assert proc.returncode == 2
    assert "--asset-hosts" in proc.stderr and "oss.example.cn:443" in proc.stderr and "Traceback" not in proc.stderr
