"""Hit-count normalisation."""

from __future__ import annotations

import pytest

from pipelines.hits import HitsPipeline, normalize_hits


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
    ],
)
def test_normalize_hits(raw: str | None, scripted: bool, expected: int | None) -> None:
    assert normalize_hits(raw, scripted) == expected


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
