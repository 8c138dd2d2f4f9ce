"""RotatingWarcWriter and the HTTP block builders, checked with the real warcio CLIs and readers."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archives import warc_writer
from archives.fixity import MANIFEST_NAME, verify_fixity
from archives.http_record import HttpExchange, status_line
from archives.warc_writer import RotatingWarcWriter
from tests.support.helpers_http import (
    CHUNKED_BODY,
    COOKIES,
    GZIP_BODY,
    assert_warcio_valid,
    read_member,
    read_records,
    sha1_b32,
)

NAME_RX = re.compile(r"^crawl-\d{17}-\d{5}-[A-Za-z0-9.-]+\.warc\.gz$")
T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def exchange(url: str, status: int = 200, body: bytes = b"", **kw: object) -> HttpExchange:
    fields: dict = {
        "method": "GET",
        "url": url,
        "request_headers": [("Accept-Encoding", "gzip, deflate"), ("User-Agent", "test")],
        "request_body": b"",
        "protocol": "HTTP/1.1",
        "status": status,
        "response_headers": [("Content-Type", "text/html")],
        "body": body,
        "ip_address": "127.0.0.1",
        "started_at": T0,
    }
    fields.update(kw)
    return HttpExchange(**fields)


def sample_exchanges() -> list[HttpExchange]:
    return [
        exchange(
            "http://gov.example/gzip?a=1&b=2",
            body=GZIP_BODY,
            response_headers=[
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("Content-Length", str(len(GZIP_BODY))),
            ],
        ),
        exchange(
            "http://gov.example/chunked",
            body=CHUNKED_BODY,
            response_headers=[("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
        ),
        exchange(
            "http://gov.example/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15",
            method="POST",
            request_headers=[("Content-Type", "application/x-www-form-urlencoded")],
            request_body=b"col=1&webid=2&path=%2F",
            body=b"<datastore></datastore>",
        ),
        exchange(
            "http://gov.example/cookies",
            body=b"ok",
            response_headers=[("Set-Cookie", c) for c in COOKIES] + [("Content-Length", "999")],
        ),
        exchange("http://gov.example/empty", status=204, response_headers=[]),
        exchange("http://gov.example/odd", status=299, body=b"odd"),
        exchange("https://gov.example/h2", body=b"h2 body", protocol="h2", ip_address=None),
        exchange("http://gov.example/cut", body=b"partial", truncated="disconnect"),
    ]


@pytest.fixture
def written(tmp_path: Path):
    writer = RotatingWarcWriter(tmp_path, "crawl", 10**9, {"software": "test", "operator": "tests"}, "host_1")
    pointers = [writer.write_exchange(ex) for ex in sample_exchanges()]
    log = writer.write_resource("urn:x-crawl-log:test:1", "日志 line\n".encode(), "text/plain; charset=utf-8")
    meta = writer.write_metadata(pointers[0].url, {"note": "x\ny"}, concurrent_to=pointers[0].record_id)
    files = writer.close()
    return tmp_path, files, pointers, log, meta


def test_files_validate_with_warcio_cli(written) -> None:
    directory, files, *_ = written
    assert len(files) == 1 and NAME_RX.match(files[0]) and "host-1" in files[0]
    assert_warcio_valid(directory / files[0])
    assert not list(directory.glob("*.open"))
    assert verify_fixity(directory) == []


def test_pointers_are_standalone_gzip_members(written) -> None:
    directory, files, pointers, log, meta = written
    for ex, ptr in zip(sample_exchanges(), pointers, strict=True):
        assert ptr.filename == files[0]
        rec = read_member(directory / ptr.filename, ptr.offset, ptr.length)
        assert rec["type"] == "response"
        assert rec["rec"].get_header("WARC-Record-ID") == ptr.record_id
        assert rec["rec"].get_header("WARC-Target-URI") == ex.url == ptr.url
        assert rec["raw"] == ex.body
        assert ptr.payload_digest == rec["rec"].get_header("WARC-Payload-Digest") == sha1_b32(ex.body)
    log_rec = read_member(directory / log.filename, log.offset, log.length)
    assert log_rec["type"] == "resource" and log_rec["raw"] == "日志 line\n".encode()
    meta_rec = read_member(directory / meta.filename, meta.offset, meta.length)
    assert meta_rec["type"] == "metadata" and meta_rec["rec"].get_header("WARC-Payload-Digest") is None
    assert meta_rec["raw"] == b"note: x y\r\n"


def test_record_layout_and_http_blocks(written) -> None:
    directory, files, pointers, *_ = written
    records = read_records(directory / files[0])
    info = records[0]
    assert info["type"] == "warcinfo"
    assert info["rec"].get_header("WARC-Filename") == files[0]
    assert info["rec"].get_header("WARC-Target-URI") is None
    info_id = info["rec"].get_header("WARC-Record-ID")
    by_id = {r["rec"].get_header("WARC-Record-ID"): i for i, r in enumerate(records)}
    for ptr in pointers:
        i = by_id[ptr.record_id]
        resp, req = records[i], records[i + 1]
        assert req["type"] == "request"
        assert req["rec"].get_header("WARC-Concurrent-To") == ptr.record_id
        date = resp["rec"].get_header("WARC-Date")
        assert req["rec"].get_header("WARC-Date") == date == "2024-05-06T07:08:09.123456Z"
        assert resp["rec"].get_header("WARC-Warcinfo-ID") == info_id
        assert resp["http"].get_header("Transfer-Encoding") is None
        assert int(resp["http"].get_header("Content-Length")) == len(resp["raw"])
        assert [n for n, _ in resp["http"].headers].count("Content-Length") == 1
    resp = {r["rec"].get_header("WARC-Target-URI"): r for r in records if r["type"] == "response"}
    req = {r["rec"].get_header("WARC-Target-URI"): r for r in records if r["type"] == "request"}
    gz = resp["http://gov.example/gzip?a=1&b=2"]
    assert gz["http"].protocol == "HTTP/1.1" and gz["http"].statusline == "200 OK"
    assert gz["http"].get_header("Content-Encoding") == "gzip" and gz["raw"] == GZIP_BODY
    assert gz["rec"].get_header("WARC-IP-Address") == "127.0.0.1"
    assert req["http://gov.example/gzip?a=1&b=2"]["http"].statusline == "/gzip?a=1&b=2 HTTP/1.1"
    assert req["http://gov.example/gzip?a=1&b=2"]["http"].headers[0] == ("Host", "gov.example")
    cookies = [v for n, v in resp["http://gov.example/cookies"]["http"].headers if n == "Set-Cookie"]
    assert cookies == COOKIES
    assert resp["http://gov.example/cookies"]["http"].get_header("Content-Length") == "2"
    post_url = "http://gov.example/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15"
    post = req[post_url]
    assert post["http"].protocol == "POST"
    assert post["http"].statusline.startswith("/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45")
    assert post["raw"] == b"col=1&webid=2&path=%2F"
    assert post["http"].get_header("Content-Length") == str(len(post["raw"]))
    assert resp["http://gov.example/empty"]["http"].statusline == "204 No Content"
    assert resp["http://gov.example/odd"]["http"].statusline.rstrip() == "299"
    h2 = resp["https://gov.example/h2"]
    assert h2["rec"].get_header("WARC-Protocol") == "h2" and h2["http"].protocol == "HTTP/1.1"
    assert h2["rec"].get_header("WARC-IP-Address") is None
    assert resp["http://gov.example/cut"]["rec"].get_header("WARC-Truncated") == "disconnect"


def test_raw_status_lines_on_disk(written) -> None:
    directory, files, *_ = written
    import gzip

    text = gzip.decompress((directory / files[0]).read_bytes())
    assert b"\r\nHTTP/1.1 299 \r\n" in text  # required SP after the code, empty reason
    assert b"\r\nHTTP/1.1 200 \r\n" in text  # the h2 response (no reason phrase in HTTP/2)
    assert b"Transfer-Encoding" not in text
    assert status_line("HTTP/1.0", 404) == ("HTTP/1.0", "404 Not Found")


def test_rotation_never_splits_pairs(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path, "crawl", 6000, {"software": "test"}, "host")
    pointers = []
    for i in range(12):
        body = os.urandom(1500)  # incompressible, so each pair is ~2 KB
        pointers.append(writer.write_exchange(exchange(f"http://gov.example/p{i}", body=body)))
        assert (tmp_path / (writer.current_filename + ".open")).exists()
        assert not (tmp_path / writer.current_filename).exists()
    files = writer.close()
    assert len(files) >= 3 and len(set(files)) == len(files)
    assert not list(tmp_path.glob("*.open"))
    serials = [int(name.split("-")[2]) for name in files]
    assert serials == sorted(serials)
    for name in files:
        assert NAME_RX.match(name)
        records = read_records(tmp_path / name)
        assert records[0]["type"] == "warcinfo" and records[0]["rec"].get_header("WARC-Filename") == name
        types = [r["type"] for r in records[1:]]
        assert types == ["response", "request"] * (len(types) // 2) and types
        assert (tmp_path / name).stat().st_size <= 6000 or len(types) == 2
    assert_warcio_valid(*(tmp_path / name for name in files))
    for ptr in pointers:
        assert read_member(tmp_path / ptr.filename, ptr.offset, ptr.length)["type"] == "response"
    assert verify_fixity(tmp_path) == []
    manifest = (tmp_path / MANIFEST_NAME).read_text().splitlines()
    assert [line.split("  ")[1] for line in manifest] == files
    victim = tmp_path / files[1]
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0xFF
    victim.write_bytes(bytes(data))
    assert verify_fixity(tmp_path) == [f"{files[1]}: sha256 mismatch"]


def test_name_collision_bumps_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warc_writer, "timestamp17", lambda: "20240101000000000")
    taken = tmp_path / "crawl-20240101000000000-00000-host.warc.gz"
    taken.write_bytes(b"precious")
    (tmp_path / "crawl-20240101000000000-00001-host.warc.gz.open").write_bytes(b"other run")
    writer = RotatingWarcWriter(tmp_path, "crawl", 10**6, {"software": "test"}, "host")
    writer.write_exchange(exchange("http://gov.example/"))
    assert writer.close() == ["crawl-20240101000000000-00002-host.warc.gz"]
    assert taken.read_bytes() == b"precious"


def test_crawlhost_and_prefix_sanitised(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path, "crawl", 10**6, {}, crawlhost="../../evil host/x")
    assert writer.crawlhost == "evil-host-x"
    assert RotatingWarcWriter(tmp_path, "crawl", 10**6, {}, crawlhost="w7~crawl-1").crawlhost == "w7~crawl-1"
    with pytest.raises(ValueError):
        RotatingWarcWriter(tmp_path, "../x", 10**6, {})


def test_sync_tracking(tmp_path: Path) -> None:
    now = [0.0]
    writer = RotatingWarcWriter(tmp_path, "crawl", 10**6, {}, "host", clock=lambda: now[0])
    ptr = writer.write_exchange(exchange("http://gov.example/", body=b"x"))
    assert not writer.pointer_is_durable(ptr.as_dict())
    assert writer.fsync_if_due() is False
    now[0] = 1.5
    assert writer.fsync_if_due() is True
    assert writer.pointer_is_durable(ptr.as_dict())
    assert writer.synced_upto == (ptr.filename, (tmp_path / (ptr.filename + ".open")).stat().st_size)
    ptr2 = writer.write_exchange(exchange("http://gov.example/2", body=b"y"))
    assert not writer.pointer_is_durable(ptr2.as_dict())
    writer.close()
    assert writer.pointer_is_durable(ptr2.as_dict())


def test_naive_datetime_rejected(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path, "crawl", 10**6, {}, "host")
    with pytest.raises(ValueError):
        writer.write_exchange(exchange("http://gov.example/", started_at=datetime(2024, 1, 1)))
    ptr = writer.write_exchange(exchange("http://gov.example/", started_at=T0 + timedelta(hours=1)))
    assert ptr.offset > 0
    writer.close()


DISK_FULL_SCRIPT = textwrap.dedent(
    """
    import json, os, resource, signal, sys
    from datetime import UTC, datetime
    from archives.http_record import HttpExchange
    from archives.warc_writer import RotatingWarcWriter, WarcWriteError

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))
    writer = RotatingWarcWriter(sys.argv[1], "crawl", 10**9, {"software": "test"}, "host")
    pointers, error = [], None
    for i in range(100):
        ex = HttpExchange("GET", f"http://gov.example/{i}", [], b"", "HTTP/1.1", 200, [],
                          os.urandom(3000), None, datetime.now(UTC))
        try:
            pointers.append(writer.write_exchange(ex).as_dict())
        except WarcWriteError as exc:
            error = {"errno": exc.errno, "message": str(exc), "filename": exc.filename}
            break
    size_after = os.path.getsize(os.path.join(sys.argv[1], writer.current_filename + ".open"))
    files = writer.close()
    print(json.dumps({"pointers": pointers, "error": error, "files": files, "size": size_after}))
    """
)


def test_disk_full_rolls_back_partial_pair(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", DISK_FULL_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["error"]["errno"] == errno.EFBIG
    assert "EFBIG" in result["error"]["message"] and result["error"]["filename"].endswith(".warc.gz.open")
    pointers = result["pointers"]
    assert 5 <= len(pointers) < 100
    last = pointers[-1]
    (name,) = result["files"]
    path = tmp_path / name
    records = read_records(path)
    # The file ends exactly after the last complete pair: the partial one was cut off.
    assert result["size"] == path.stat().st_size
    assert [r["type"] for r in records[1:]] == ["response", "request"] * len(pointers)
    last_rec = read_member(path, last["offset"], last["length"])
    assert last_rec["rec"].get_header("WARC-Target-URI") == last["url"]
    assert_warcio_valid(path)
    assert verify_fixity(tmp_path) == []

