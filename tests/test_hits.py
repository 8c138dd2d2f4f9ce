"""Hit-count normalisation."""

from __future__ import annotations

import pytest

from pipelines.hits import MAX_HITS, HitsPipeline, normalize_hits


@pytest.mark.parametrize(
    ("raw", "scripted", "expected"),
    [
        ("1234", False, 1234),
        ("1,234", False, 1234),
        ("1，234", False, 1234),
        ("123次", False, 123),
        (" 56 次 ", False, 56),
        ("1.2万", False, 12000),
        ("3万", False, 30000),
        ("2千", False, 2000),
        ("0", False, 0),
        ("", False, None),
        ("   ", False, None),
        (None, False, None),
        ("123", True, None),
        ("", True, None),
        ("--", False, None),
        ("1.5", False, None),
        ("-3", False, None),
        ("abc", False, None),
        # the forms docs/schema.md ("Hit counts") decides
        ("12 345", False, 12345),
        ("12\u00a0345", False, 12345),
        ("12\u2009345", False, 12345),
        ("12,345", False, 12345),
        ("1,234,567", False, 1234567),
        ("1,2345", False, None),
        ("12 34", False, None),
        ("1e6", False, None),
        ("1E6", False, None),
        ("+5", False, None),
        ("-0", False, None),
        ("１２３", False, 123),
        ("１２，３４５", False, 12345),
        ("1.2万", False, 12000),
        ("1.2万次", False, 12000),
        ("10亿", False, 1_000_000_000),
        ("1.5亿", False, 150_000_000),
        ("1.23456万", False, None),
        ("1.2w", False, 12000),
        ("5k", False, 5000),
        ("1,234.5", False, None),
        ("2019-03-04", False, None),
        ("9223372036854775807", False, 2**63 - 1),
        ("9223372036854775808", False, None),
        ("123456789012345678901234567890", False, None),
        ("100000000000亿", False, None),
        ("1" * 5000, False, None),
    ],
)
def test_normalize_hits(raw: str | None, scripted: bool, expected: int | None) -> None:
    assert normalize_hits(raw, scripted) == expected


def test_no_count_escapes_64_bits() -> None:
    for digits in range(1, 40):
        value = normalize_hits("9" * digits, False)
        assert value is None or 0 <= value <= MAX_HITS == 2**63 - 1


def test_pipeline() -> None:
    item = {"hits_raw": "1,234", "hits_scripted": False, "hits": None}
    HitsPipeline().process_item(item)
    assert item["hits"] == 1234
    item = {"hits_raw": "1,234", "hits_scripted": True, "hits": 5}
    HitsPipeline().process_item(item)
    assert item["hits"] is None
    item = {"hits_raw": "0", "hits": None}  # an item without hits_scripted
    HitsPipeline().process_item(item)
    assert item["hits"] == 0
