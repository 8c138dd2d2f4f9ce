"""Reading captures back: bodies decoded from their Content-Encoding (br included) with a byte limit."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import brotli

from archives.http_record import HttpExchange
from archives.warc_reader import iter_captures
from archives.warc_writer import RotatingWarcWriter

PAGE = ("<html><head><title>t</title></head><body>" + "发布日期：2024-01-02 正文。" * 400 + "</body></html>").encode()


def _write(directory: Path, encodings: list[tuple[str, bytes]]) -> None:
    writer = RotatingWarcWriter(directory, "test", 10_000_000, {"software": "test"})
    for i, (coding, body) in enumerate(encodings):
        headers = [("Content-Type", "text/html; charset=utf-8")]
        if coding:
            headers.append(("Content-Encoding", coding))
        writer.write_exchange(HttpExchange(
            method="GET", url=f"http://127.0.0.1/art/2024/1/2/art_1_{i}.html", request_headers=[],
            request_body=b"", protocol="HTTP/1.1", status=200, response_headers=headers, body=body,
            ip_address="127.0.0.1", started_at=datetime.now(UTC)))
    writer.close()


def test_gzip_brotli_and_identity_bodies_read_back_decoded(tmp_path: Path) -> None:
    _write(tmp_path, [("gzip", gzip.compress(PAGE)), ("br", brotli.compress(PAGE)), ("", PAGE)])
    bodies = [capture.body for capture in iter_captures([tmp_path])]
    assert bodies == [PAGE, PAGE, PAGE]


def test_a_decompression_bomb_is_cut_at_the_limit(tmp_path: Path) -> None:
    bomb = b"\0" * (64 * 1024 * 1024)
    _write(tmp_path, [("gzip", gzip.compress(bomb)), ("br", brotli.compress(bomb))])
    captures = list(iter_captures([tmp_path], max_body=1024 * 1024))
    assert [len(c.body) for c in captures] == [1024 * 1024] * 2
    assert all(c.body_truncated for c in captures)
