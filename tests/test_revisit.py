"""Revisit records: when the capture writes one, and what it holds (read back with warcio)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archives.http_record import HttpExchange
from archives.warc_writer import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    RotatingWarcWriter,
    payload_digest,
    revisit_profile,
)

BODY = "<html><body>发布日期：2024-01-02</body></html>".encode()
EXCHANGE = HttpExchange("GET", "http://a.gov.cn/art/2024/1/2/art_1_7.html", [("Accept", "*/*")], b"", "HTTP/1.1",
                        200, [("Content-Type", "text/html; charset=UTF-8"), ("ETag", '"x"')], BODY, "127.0.0.1",
                        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))


def test_the_profile_follows_status_digest_and_original() -> None:
    original = {"record_id": "<urn:uuid:1>", "url": EXCHANGE.url, "payload_digest": payload_digest(BODY)}
    assert revisit_profile(EXCHANGE, original) == PROFILE_IDENTICAL
    assert revisit_profile(replace(EXCHANGE, status=304, body=b""), original) == PROFILE_NOT_MODIFIED
    assert revisit_profile(replace(EXCHANGE, body=BODY + b" "), original) is None
    assert revisit_profile(replace(EXCHANGE, truncated="disconnect"), original) is None
    assert revisit_profile(EXCHANGE, None) is None  # no original in the archive: a full record


@pytest.mark.parametrize("status", [200, 304])
def test_a_revisit_refers_to_its_original(tmp_path: Path, status: int) -> None:
    writer = RotatingWarcWriter(tmp_path, "t", 10**9, {"software": "test"}, crawlhost="h")
    original = writer.write_exchange(EXCHANGE)
    assert original.payload_digest == payload_digest(BODY)
    later = replace(EXCHANGE, started_at=datetime(2026, 2, 1, tzinfo=UTC),
                    **({"status": 304, "body": b""} if status == 304 else {}))
    profile = PROFILE_NOT_MODIFIED if status == 304 else PROFILE_IDENTICAL
    pointer = writer.write_revisit(later, {"record_id": original.record_id, "url": original.url,
                                           "date": "2026-01-02T03:04:05Z",
                                           "payload_digest": original.payload_digest}, profile)
    writer.close()
    (path,) = tmp_path.glob("*.warc.gz")
    with path.open("rb") as handle:
        records = [(r.rec_headers, r.http_headers, r.content_stream().read(), r.rec_headers.get_header("WARC-Type"))
                   for r in ArchiveIterator(handle)]
    revisit, http, body, _ = next(r for r in records if r[3] == "revisit")
    assert [r[3] for r in records] == ["warcinfo", "response", "request", "revisit", "request"]
    assert revisit.get_header("WARC-Record-ID") == pointer.record_id
    assert revisit.get_header("WARC-Profile") == profile
    assert revisit.get_header("WARC-Refers-To") == original.record_id
    assert revisit.get_header("WARC-Refers-To-Target-URI") == EXCHANGE.url
    assert revisit.get_header("WARC-Refers-To-Date") == "2026-01-02T03:04:05Z"
    assert revisit.get_header("WARC-Payload-Digest") == original.payload_digest == pointer.payload_digest
    assert (revisit.get_header("WARC-Truncated") == "length") == (status == 200)
    assert body == b"" and http.get_statuscode() == str(status)
    assert http.get_header("Content-Length") == (str(len(BODY)) if status == 200 else "0")
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", str(path)], capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0 and not check.stderr, check.stdout + check.stderr


def test_an_unknown_profile_is_refused(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path, "t", 10**9, {}, crawlhost="h")
    with pytest.raises(ValueError, match="profile"):
        writer.write_revisit(EXCHANGE, {"record_id": "<urn:uuid:1>", "url": EXCHANGE.url}, "http://x/")
