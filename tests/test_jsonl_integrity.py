"""JSONL integrity (RELIABILITY.md 2.8, cases 55-59), on rows made by real crawls of hostile pages.

One fixture serves pages whose text holds every line separator, NULs, control characters, invalid bytes and lone
surrogate references, plus 300 plain pages fetched concurrently; it is crawled twice (stability).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from crawler.items import ReleaseItem
from tests.support.fault_crawl import FaultCrawl, run_fault_crawl
from tests.support.faultserver import FaultServer, html_page, release_path, respond
from tests.support.invariants import assert_archive_invariants, read_jsonl_strict

HTML = [("Content-Type", "text/html; charset=utf-8")]
SEPARATORS = "a\nb\rc\u2028d\u2029e\u0085f\x0bg\x0ch"
FILLER = 20


def hostile_pages() -> dict[str, bytes]:
    return {
        "separators": html_page(SEPARATORS.replace("\n", "<br>\n"), title="标题\u2028换行\u2029段落\u0085下一行"),
        "nul": html_page("空字符\x00在这里 &#0; 和控制字符 \x01\x02\x1f", title="含\x00空字符"),
        "bad_bytes": html_page("好").replace("好".encode(), b"\xff\xfe\xe5\xa5"),  # invalid UTF-8 in a UTF-8 page
        "surrogate": html_page("代理项 &#xD800; &#xDFFF; 和 &#x110000; 还有 &#65533;", title="&#xD83D;孤立"),
    }


class Runs:
    def __init__(self, urls: dict[str, str], crawls: list[FaultCrawl]) -> None:
        self.urls = urls
        self.crawls = crawls

    def row(self, name: str, run: int = 0) -> dict[str, Any]:
        row = self.crawls[run].row_for(self.urls[name])
        assert row is not None, name
        return row


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    crawls = []
    with FaultServer() as fs:
        urls = {name: fs.route(release_path(name), respond(200, body, HTML)) for name, body in hostile_pages().items()}
        for i in range(FILLER):
            urls[f"filler{i}"] = fs.route(release_path(f"f{i}"), respond(200, html_page(f"第{i}条 " * 40), HTML))
        for run in range(2):
            crawl = run_fault_crawl(tmp_path_factory.mktemp(f"jsonl{run}") / "out", urls=list(urls.values()),
                                    settings={"CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
                                              "JSONL_FSYNC_INTERVAL": 0.01})
            assert crawl.returncode == 0, crawl.output[-2000:]
            crawls.append(crawl)
    return Runs(urls, crawls)


def test_55_line_separators_one_object_per_line(runs: Runs) -> None:
    data = (runs.crawls[0].out_dir / "releases.jsonl").read_bytes()
    text = data.decode("utf-8")
    assert len(text.splitlines()) == text.count("\n") == len(runs.urls)
    for raw in ("\u2028", "\u2029", "\u0085"):
        assert raw not in text  # escaped as \\u2028 etc.
    row = runs.row("separators")
    assert all(ch in row["body_html"] for ch in "\u2028\u2029\u0085\x0b\x0c")  # kept in the value, escaped
    assert_archive_invariants(runs.crawls[0].out_dir)


def test_56_nul_controls_bad_bytes_never_reach_jsonl_raw(runs: Runs) -> None:
    path = runs.crawls[0].out_dir / "releases.jsonl"
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\x00" not in data and b"NaN" not in data
    assert not any(0 < byte < 0x20 and byte != 0x0A for byte in data)  # controls are JSON-escaped
    nul = runs.row("nul")
    assert "\x00" not in json.dumps(nul) and "空字符在这里" in nul["body_text"]  # NULs stripped
    assert "\ufffd" in runs.row("bad_bytes")["body_text"]  # bad source bytes became U+FFFD
    if shutil.which("jq"):
        jq = subprocess.run(["jq", "-c", "."], input=data, capture_output=True, timeout=60)
        assert jq.returncode == 0 and jq.stdout.count(b"\n") == len(runs.urls)


def test_57_lone_surrogates_become_replacement_characters(runs: Runs) -> None:
    path = runs.crawls[0].out_dir / "releases.jsonl"
    path.read_bytes().decode("utf-8", "strict")
    row = runs.row("surrogate")
    for value in (row["title"], row["body_text"]):
        assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
    assert "\ufffd" in row["body_text"] and "\ufffd" in row["title"]
    assert "\\ud800" not in path.read_text("utf-8").lower()


def test_58_two_runs_differ_only_in_fetch_fields(runs: Runs) -> None:
    fetch_fields = {"fetched_at", "warc"}
    keys = list(ReleaseItem.__dataclass_fields__)
    tables = []
    for crawl in runs.crawls:
        rows = read_jsonl_strict(crawl.out_dir / "releases.jsonl")
        for row in rows:
            assert row["schema_version"] == 2
            assert [k for k in keys if k in row] == list(row)  # key order is the item's field order
        tables.append({row["url"]: {k: v for k, v in row.items() if k not in fetch_fields} for row in rows})
    assert tables[0] == tables[1]
    types = {k: {type(row[k]).__name__ for row in tables[0].values() if row[k] is not None} for k in keys
             if k in next(iter(tables[0].values()))}
    assert all(len(kinds) <= 1 for kinds in types.values()), types  # a field never changes type between rows


def test_59_concurrent_callbacks_single_writer(runs: Runs) -> None:
    crawl = runs.crawls[0]
    rows = read_jsonl_strict(crawl.out_dir / "releases.jsonl")
    assert len(rows) == len({row["url"] for row in rows}) == len(runs.urls)
    assert crawl.stats["releases/written"] == len(rows)
    assert_archive_invariants(crawl.out_dir)
