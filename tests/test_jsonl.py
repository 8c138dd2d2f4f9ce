"""JSONL line policy, crash recovery, and the WARC-first batching of JsonlExportPipeline."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.exceptions import DropItem

from archives.components.jsonl_export import JsonlExportPipeline
from archives.http_record import HttpExchange
from archives.jsonl import JsonlWriter, encode_line
from archives.warc_writer import RotatingWarcWriter


def test_compact_separators_and_utf8() -> None:
    line = encode_line({"b": 1, "a": "政务 公开"})
    assert line == '{"b":1,"a":"政务 公开"}\n'.encode()
    assert not line.startswith(b"\xef\xbb\xbf")


def test_line_separators_are_escaped() -> None:
    text = "a\nb\rc\u2028d\u2029e\u0085f\x0bg\x0ch\x1ci"
    line = encode_line({"t": text}).decode("utf-8", "strict")
    assert line.count("\n") == 1 and len(line.splitlines()) == 1
    assert "\\u2028" in line and "\\u2029" in line and "\\u0085" in line
    assert json.loads(line)["t"] == text


def test_surrogates_nul_and_nan() -> None:
    counts: Counter[str] = Counter()
    line = encode_line({"s": "x\ud800y", "n": "a\x00b", "f": math.nan, "i": [math.inf], "k\x00": 1}, counts)
    line.decode("utf-8", "strict")
    assert json.loads(line) == {"s": "x\ufffdy", "n": "ab", "f": None, "i": [None], "k": 1}
    assert counts == {"surrogate_replaced": 1, "nul_stripped": 2, "nonfinite_nulled": 2}


def test_partial_last_line_is_cut_on_open(tmp_path: Path) -> None:
    path = tmp_path / "out" / "r.jsonl"
    path.parent.mkdir()
    path.write_bytes(b'{"a":1}\n{"a":2}\n{"a":')
    writer = JsonlWriter(path)
    assert writer.write_rows([{"a": 3}]) == 1
    writer.close()
    assert [json.loads(x) for x in path.read_text().splitlines()] == [{"a": 1}, {"a": 2}, {"a": 3}]


@dataclass
class Release:
    url: str
    title: str
    warc: dict[str, Any] | None = None
    tags: list[str] = field(default_factory=list)


def _exchange(url: str) -> HttpExchange:
    return HttpExchange("GET", url, [], b"", "HTTP/1.1", 200, [], b"<html></html>", None, datetime.now(UTC))


def test_rows_wait_for_warc_fsync(tmp_path: Path) -> None:
    now = [0.0]
    warc = RotatingWarcWriter(tmp_path / "warc", "crawl", 10**9, {"software": "test"}, "host")
    pipeline = JsonlExportPipeline(tmp_path / "r.jsonl", archive=warc, clock=lambda: now[0])
    pipeline.open_spider()
    items = []
    for i in range(3):
        ptr = warc.write_exchange(_exchange(f"http://gov.example/{i}")).as_dict()
        items.append(Release(f"http://gov.example/{i}", f"t{i}", ptr, ["x"]))
        pipeline.process_item(items[-1])
    # Interval not elapsed: nothing written, and the WARC has not been fsynced past the records.
    assert (tmp_path / "r.jsonl").read_bytes() == b""
    assert not any(warc.pointer_is_durable(it.warc) for it in items)
    now[0] = 1.0
    ptr = warc.write_exchange(_exchange("http://gov.example/3")).as_dict()
    pipeline.process_item(Release("http://gov.example/3", "t3", ptr))  # interval elapsed: sync + write
    assert all(warc.pointer_is_durable(it.warc) for it in items)
    rows = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["url"] for r in rows] == [f"http://gov.example/{i}" for i in range(4)]
    assert list(rows[0]) == ["url", "title", "warc", "tags"]  # item field order kept
    ptr = warc.write_exchange(_exchange("http://gov.example/4")).as_dict()
    pipeline.process_item(Release("http://gov.example/4", "t4", ptr))
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 4
    pipeline.close_spider()  # syncs the WARC and writes the rest
    assert warc.pointer_is_durable(ptr)
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 5
    warc.close()


def test_item_without_record_is_dropped(tmp_path: Path) -> None:
    warc = RotatingWarcWriter(tmp_path / "warc", "crawl", 10**9, {}, "host")
    pipeline = JsonlExportPipeline(tmp_path / "r.jsonl", archive=warc)
    pipeline.open_spider()
    with pytest.raises(DropItem):
        pipeline.process_item({"url": "http://gov.example/", "warc": None})
    pipeline.close_spider()
    assert (tmp_path / "r.jsonl").read_bytes() == b""


def test_require_warc_off_writes_plain_rows(tmp_path: Path) -> None:
    pipeline = JsonlExportPipeline(tmp_path / "r.jsonl", require_warc=False, clock=lambda: 0.0)
    pipeline.open_spider()
    pipeline.process_item({"url": "u", "warc": None})
    pipeline.close_spider()
    assert json.loads((tmp_path / "r.jsonl").read_text()) == {"url": "u", "warc": None}


def test_encode_line_is_sanitize_then_json_on_every_kind_of_value() -> None:
    """The fast path (no surrogate pass unless UTF-8 refuses the line) gives `sanitize`'s bytes and counts."""
    import random

    from archives import jsonl

    def reference(obj: object, counts: Counter[str]) -> bytes | str:
        try:
            text = json.dumps(jsonl.sanitize(obj, counts), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except ValueError as exc:
            return type(exc).__name__
        text = jsonl._LINE_BREAKS_RX.sub(lambda m: jsonl._LINE_BREAKS[m.group(0)], text)
        return (text + "\n").encode("utf-8", "strict")

    rng = random.Random(7)
    parts = ["a", "中", "\x00", "\ud800", "\udfff", "\u2028", "\u2029", "\x85", "\\u2028", '"', "\\"]

    def value(depth: int = 0) -> object:
        roll = rng.random()
        if depth < 3 and roll < 0.2:
            keys = ["a", "b", 1, True, None, 1.5, "\ud800k", "n\x00"]
            return {rng.choice(keys): value(depth + 1) for _ in range(rng.randint(0, 3))}
        if depth < 3 and roll < 0.35:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        if roll < 0.45:
            return rng.choice([1.0, float("nan"), float("inf"), 0, True, None, -2.5])
        return "".join(rng.choice(parts) for _ in range(rng.randint(0, 6)))

    surrogates = 0
    for _ in range(5000):
        obj = value()
        expected_counts: Counter[str] = Counter()
        got_counts: Counter[str] = Counter()
        expected = reference(obj, expected_counts)
        try:
            got: bytes | str = jsonl.encode_line(obj, got_counts)
        except ValueError as exc:
            got = type(exc).__name__
        assert got == expected and got_counts == expected_counts, obj
        surrogates += expected_counts["surrogate_replaced"] > 0
    assert surrogates > 100  # the slow path was taken too
