"""FastWARC's scan (``archives.replay_scan``) gives replay exactly what warcio's reading gives.

warcio (``AttachmentIndex.build`` + ``iter_captures``) is the reference reader: over a real crawl's WARC (gzip per
record, skip records, attachments behind redirects) and over hand-made records covering what a WARC from elsewhere
may hold (gzip, deflate, br and chunked bodies, malformed HTTP headers, WARC-Truncated, revisits found by
WARC-Refers-To or by URI and date, a revisit without its original, wget's <URI>, a file cut short), every capture
(body, headers, status, offset, length, record id, digests) and every attachment lookup must be equal. Files that
are not one gzip member per record are refused (uncompressed, several records in one member) and replay reads them
with warcio.
"""

from __future__ import annotations

import gzip
import random
import shutil
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import brotli
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from archives.attachment_index import AttachmentIndex
from archives.fast_reader import NotFramed
from archives.http_record import HttpExchange
from archives.replay_scan import read_capture, scan
from archives.warc_reader import iter_captures
from archives.warc_writer import PROFILE_IDENTICAL, PROFILE_NOT_MODIFIED, RotatingWarcWriter
from crawler.offline.replay import _is_wanted, replay_to_jsonl
from tests.support.common import CrawlResult, read_jsonl
from tests.support.warc_readings import assert_same_reading, everything, fast_reading, responses, warcio_reading

BASE = "http://127.0.0.1:8000"
BR_FILE = b"%PDF-1.4 " + random.Random(3).randbytes(300_000) * 8  # decoded in several steps of a megabyte
PAGE = ("<html><head><title>t</title></head><body>" + "发布日期：2024-01-02 正文。" * 200 + "</body></html>").encode()


def _block(status: str, headers: list[tuple[str, str]] | list[bytes], body: bytes) -> bytes:
    lines = [h if isinstance(h, bytes) else f"{h[0]}: {h[1]}".encode() for h in headers]
    return b"\r\n".join([f"HTTP/1.1 {status}".encode(), *lines]) + b"\r\n\r\n" + body


def _record(kind: str, url: str | bytes, block: bytes, number: int, extra: list[tuple[str, str]] | None = None,
            date: str = "2024-01-02T03:04:05Z") -> bytes:
    target = url if isinstance(url, bytes) else url.encode()
    head = [b"WARC/1.1", b"WARC-Type: " + kind.encode(), b"WARC-Target-URI: " + target,
            f"WARC-Date: {date}".encode(), f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{number:012d}>".encode(),
            f"WARC-Payload-Digest: sha1:DIGEST{number}".encode()]
    head += [f"{k}: {v}".encode() for k, v in extra or []]
    content_type = "application/warc-fields" if kind == "metadata" else f"application/http; msgtype={kind}"
    head += [f"Content-Type: {content_type}".encode(), f"Content-Length: {len(block)}".encode()]
    return b"\r\n".join(head) + b"\r\n\r\n" + block + b"\r\n\r\n"


def _chunked(body: bytes, size: int = 1000) -> bytes:
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def _records() -> list[bytes]:
    html = [("Content-Type", "text/html; charset=utf-8")]
    art = f"{BASE}/art/2024/1/2/art_1_%d.html"
    blocks: list[tuple[str, str | bytes, bytes, list[tuple[str, str]] | None]] = [
        ("response", art % 1, _block("200 OK", html, PAGE), None),
        ("request", art % 1, b"GET /art/2024/1/2/art_1_1.html HTTP/1.1\r\nHost: x\r\n\r\n", None),
        ("response", art % 2, _block("200 OK", [*html, ("Content-Encoding", "gzip")], gzip.compress(PAGE)), None),
        ("response", art % 3, _block("200 OK", [*html, ("Content-Encoding", "deflate")], zlib.compress(PAGE)), None),
        ("response", art % 4, _block("200 OK", [*html, ("Content-Encoding", "br")], brotli.compress(PAGE)), None),
        ("response", art % 5, _block("200 OK", [*html, ("Transfer-Encoding", "chunked")], _chunked(PAGE)), None),
        ("response", art % 6, _block("200 OK", [*html, ("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")],
                                     _chunked(gzip.compress(PAGE))), None),
        ("response", art % 7, _block("200 OK", [*html, ("Transfer-Encoding", "chunked")], b"zz\r\nnot chunks" + PAGE),
         None),
        ("response", art % 8, _block("200 OK", [*html, ("Content-Encoding", "gzip")], b"not gzip " + PAGE), None),
        # malformed headers: no colon, a continuation line, Latin-1 bytes, an empty name, LF-only line ends
        ("response", art % 9, _block("200 OK", [b"Content-Type: text/html", b"no colon here", b"X-Long: one",
                                                b"  two", b"X-Latin: caf\xe9", b": empty name"], PAGE), None),
        ("response", art % 10, b"HTTP/1.1 200 OK\nContent-Type: text/html\nX-A: b\n\n" + PAGE, None),
        ("response", art % 11, _block("200 OK", html, PAGE[:500]), [("WARC-Truncated", "length")]),
        ("response", art % 12, _block("404 Not Found", html, b"<html>gone</html>"), None),
        ("response", art % 13, _block("200", html, PAGE), None),  # no reason phrase
        ("response", art % 14, b"", None),  # an empty block: warcio's default 200 headers
        ("response", b"<" + (art % 15).encode() + b">", _block("200 OK", html, PAGE), None),  # wget 1.19
        ("response", (art % 16).replace("art_", "art _"), _block("200 OK", html, PAGE), None),  # a space
        ("response", (art % 17).encode() + b"?q=caf\xe9", _block("200 OK", html, PAGE), None),  # Latin-1 URI
        ("response", art % 18, _block("200 OK", html, PAGE), [("X-Note", "a WARC header\r\n  continued")]),
        # attachments: a redirect to the file, the file, a skip record
        ("response", f"{BASE}/a.pdf", _block("302 Found", [("Location", "/files/a.pdf")], b""), None),
        ("response", f"{BASE}/files/a.pdf", _block("200 OK", [("Content-Type", "application/pdf"),
                                                              ("Content-Encoding", "gzip")],
                                                   gzip.compress(b"%PDF-1.4 " * 5000)), None),
        ("response", f"{BASE}/files/a.pdf", _block("200 OK", [("Content-Type", "application/pdf")], b"second"), None),
        # brotli attachments: warcio's own br decoding wants brotlipy's API, so their size is decoded by us
        ("response", f"{BASE}/files/b.pdf", _block("200 OK", [("Content-Type", "application/pdf"),
                                                              ("Content-Encoding", "br")], brotli.compress(BR_FILE)),
         None),
        ("response", f"{BASE}/files/c.pdf", _block("200 OK", [("Content-Encoding", "br")], b"not brotli"), None),
        ("metadata", f"{BASE}/big.zip", b"skipped: size-limit\r\ncontent-type: application/zip\r\n"
                                        b"declared-size: 9000000\r\n", None),
        ("response", f"{BASE}/big.zip", _block("200 OK", [("Content-Type", "application/zip")], b"PK"), None),
        ("response", "dns:127.0.0.1", b"20240102030405\n127.0.0.1 A 127.0.0.1\n", None),
    ]
    records = [_record(kind, url, block, number, extra) for number, (kind, url, block, extra) in enumerate(blocks)]
    revisit = [("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest")]
    original = "<urn:uuid:00000000-0000-0000-0000-000000000002>"  # art_1_2, the gzip one
    records += [
        _record("revisit", art % 2, _block("200 OK", html, b""), 100,
                [*revisit, ("WARC-Refers-To", original)], date="2024-02-01T00:00:00Z"),
        _record("revisit", art % 1, b"", 101, [*revisit, ("WARC-Refers-To-Target-URI", art % 1),
                                               ("WARC-Refers-To-Date", "2024-01-02T03:04:05Z")],
                date="2024-02-02T00:00:00Z"),
        _record("revisit", art % 99, b"", 102, [*revisit, ("WARC-Refers-To", "<urn:uuid:missing>")]),
        _record("revisit", art % 12, _block("404 Not Found", html, b""), 103,
                [*revisit, ("WARC-Refers-To", "<urn:uuid:00000000-0000-0000-0000-000000000012>")]),
    ]
    return records


def _write(path: Path, records: list[bytes]) -> Path:
    path.write_bytes(b"".join(gzip.compress(record) for record in records))
    return path


def test_hand_made_records_read_the_same(tmp_path: Path) -> None:
    path = _write(tmp_path / "made.warc.gz", _records())
    captures = assert_same_reading([path], everything)
    assert len(captures) == 25 + 3  # every response, and the revisits but the one whose original is missing
    by_url = {(c.url, c.record_type): c for c in captures}
    page = f"{BASE}/art/2024/1/2/art_1_%d.html"
    for number in (1, 2, 3, 4, 5, 6):
        assert by_url[(page % number, "response")].body == PAGE, number
    assert by_url[(page % 2, "revisit")].body == PAGE
    assert by_url[(page % 1, "revisit")].body == PAGE
    assert by_url[(page % 15, "response")].url == page % 15  # wget's brackets dropped, as warcio does
    assert by_url[(page % 12, "revisit")].status == 404
    assert assert_same_reading([path], _is_wanted)


def test_a_small_body_limit_cuts_alike(tmp_path: Path) -> None:
    path = _write(tmp_path / "made.warc.gz", _records())
    index = AttachmentIndex.build([path], want=everything)
    expected = list(iter_captures([path], want=everything, positions=index.positions, max_body=700))
    fast = [read_capture(ref, max_body=700) for ref in scan([path], everything)[1]]
    assert fast == expected
    assert any(c.body_truncated for c in fast) and not all(c.body_truncated for c in fast)


def test_several_files_and_a_revisit_of_a_record_in_an_earlier_file(tmp_path: Path) -> None:
    records = _records()
    first = _write(tmp_path / "a-00000.warc.gz", records[:12])
    second = _write(tmp_path / "a-00001.warc.gz", records[12:])
    assert_same_reading([tmp_path], everything)
    assert assert_same_reading([first, second], _is_wanted)


def test_a_file_cut_short_reads_the_same(tmp_path: Path) -> None:
    noise = random.Random(15).randbytes(40_000)  # incompressible: the cut falls in the body
    last = _record("response", f"{BASE}/art/2024/1/2/art_1_50.html", _block("200 OK", [], noise), 50)
    members = [gzip.compress(record) for record in [*_records()[:6], last]]
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(b"".join(members)[: -(len(members[-1]) // 2)])  # the last record's member is cut in its middle
    reference, captures = warcio_reading([cut], everything)
    assert len(captures) == 6 and 0 < len(captures[-1].body) < len(noise)
    index, fast = fast_reading([cut], everything)
    assert fast == captures
    assert responses(index) == responses(reference)


def test_files_that_are_not_one_gzip_member_per_record_are_refused(tmp_path: Path) -> None:
    records = _records()[:6]
    plain = tmp_path / "plain.warc"
    plain.write_bytes(b"".join(records))
    with pytest.raises(NotFramed):
        scan([plain], everything)
    one_member = tmp_path / "one-member.warc.gz"
    one_member.write_bytes(gzip.compress(b"".join(records[:3])) + b"".join(gzip.compress(r) for r in records[3:]))
    with pytest.raises(NotFramed):
        scan([one_member], everything)
    with pytest.raises(ArchiveLoadFailed), one_member.open("rb") as handle:  # warcio refuses it too
        for _ in ArchiveIterator(handle):
            pass


def test_revisits_our_writer_wrote_read_the_same(tmp_path: Path) -> None:
    """Identical-payload (200) and not-modified (304) revisits of a page, and one of a page whose original is in
    another file, as ``RotatingWarcWriter`` writes them."""
    url = f"{BASE}/art/2024/1/2/art_1_7.html"
    exchange = HttpExchange("GET", url, [("Accept", "*/*")], b"", "HTTP/1.1", 200,
                            [("Content-Type", "text/html; charset=UTF-8"), ("ETag", '"x"')], PAGE, "127.0.0.1",
                            datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    writer = RotatingWarcWriter(tmp_path, "t", 10**9, {"software": "test"}, crawlhost="h")
    original = writer.write_exchange(exchange)
    for day, status in ((1, 200), (2, 304)):
        later = replace(exchange, started_at=datetime(2026, 2, day, tzinfo=UTC),
                        **({"status": 304, "body": b""} if status == 304 else {}))
        writer.write_revisit(later, original.refers_to() | {"date": "2026-01-02T03:04:05Z"},
                             PROFILE_NOT_MODIFIED if status == 304 else PROFILE_IDENTICAL)
    writer.close()
    captures = assert_same_reading([tmp_path], everything)
    assert [c.record_type for c in captures] == ["response", "revisit", "revisit"]
    assert {c.body for c in captures} == {PAGE}


def test_a_crawls_warcs_read_the_same(e2e_crawl: CrawlResult) -> None:
    paths = sorted((e2e_crawl.out_dir / "warc").glob("*.warc.gz"))
    captures = assert_same_reading(paths, _is_wanted)
    assert len(captures) >= len(e2e_crawl.rows)
    assert_same_reading(paths, everything)


def test_replay_of_an_uncompressed_warc_falls_back_towarcio_reading(e2e_crawl: CrawlResult, tmp_path: Path) -> None:
    """The same rows from an uncompressed copy (read by warcio) as from the crawl's files (read by FastWARC),
    the pointers aside (an uncompressed file's offsets are others)."""
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    for path in sorted((e2e_crawl.out_dir / "warc").glob("*.warc.gz")):
        with gzip.open(path) as source, (plain_dir / path.name.removesuffix(".gz")).open("wb") as target:
            shutil.copyfileobj(source, target)
    rows = {}
    for name, source_dir in (("gz", e2e_crawl.out_dir / "warc"), ("plain", plain_dir)):
        out = tmp_path / f"{name}.jsonl"
        report = replay_to_jsonl([source_dir], out)
        assert report.rows == len(e2e_crawl.rows)
        rows[name] = [_without_pointers(row) for row in read_jsonl(out)]
    assert rows["plain"] == rows["gz"]


def _without_pointers(row: dict[str, Any]) -> dict[str, Any]:
    fields = {key: value for key, value in row.items() if key != "warc"}
    fields["attachments"] = [{k: v for k, v in a.items() if k != "warc"} for a in row["attachments"] or []]
    return fields


def test_replay_counts_the_same_whatever_reads_the_files(tmp_path: Path) -> None:
    """The scan leaves a release's HTTP status to the process that extracts it: the 404 page and its revisit are
    still counted as skipped, not rows, with one job or two, as warcio's reading counts them."""
    made = _write(tmp_path / "made.warc.gz", _records())
    plain = tmp_path / "made.warc"
    plain.write_bytes(gzip.decompress(made.read_bytes()))
    reports, lines = {}, {}
    for name, path, jobs in (("fast-1", made, 1), ("fast-2", made, 2), ("warcio-1", plain, 1)):
        out = tmp_path / f"{name}.jsonl"
        reports[name] = replay_to_jsonl([path], out, jobs=jobs)
        lines[name] = [_without_pointers(row) for row in read_jsonl(out)]
    assert reports["fast-1"].skipped_status == 2 and reports["fast-1"].captures == reports["fast-1"].rows > 0
    assert reports["fast-1"] == reports["fast-2"] == reports["warcio-1"]
    assert lines["fast-1"] == lines["fast-2"] == lines["warcio-1"]


def test_the_size_of_a_brotli_attachment_is_its_decoded_length(tmp_path: Path) -> None:
    """As the live crawl's ``len(response.body)`` after Scrapy decoded it; a body that is not brotli counts its
    stored bytes (as a page body that is not brotli is handed over as stored)."""
    path = _write(tmp_path / "made.warc.gz", _records())
    for index in (AttachmentIndex.build([path]), scan([path], everything)[0]):
        assert index.lookup(f"{BASE}/files/b.pdf") == {**index.lookup(f"{BASE}/files/b.pdf"), "size": len(BR_FILE)}
        assert index.lookup(f"{BASE}/files/c.pdf")["size"] == len(b"not brotli")
