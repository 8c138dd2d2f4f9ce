"""``exported_row``: the JSON-ready row of an item, read field by field for a ``ReleaseItem``."""

from __future__ import annotations

from dataclasses import dataclass

from itemadapter import ItemAdapter

from crawler.items import (
    EXPORT_FIELDS,
    SKIP_REASONS,
    ReleaseItem,
    archived_attachment,
    awaits_fetch,
    exported_row,
    found_attachment,
    skip_reason_of,
    skipped_attachment,
)


@dataclass
class _Nested:
    name: str = "n"


def _item() -> ReleaseItem:
    return ReleaseItem(
        release_id="demo:1", url="http://portal.example/art/2024/1/1/art_1_1.html",
        column_id="1", title="标题", hits=3, body_text="正文",
        attachments=[{"url": "http://portal.example/a.pdf", "name": "a.pdf", "warc": {"offset": 1}}],
        charset={"header": None, "meta": "utf-8", "used": "utf-8"}, hits_scripted=True, pubdate_raw="2024-01-01",
        attachments_found=[{"url": "http://portal.example/a.pdf", "name": "a.pdf"}],
    )


def test_row_equals_itemadapters_and_leaves_out_working_fields() -> None:
    item = _item()
    adapter = ItemAdapter(item)
    expected = {k: v for k, v in adapter.asdict().items() if adapter.get_field_meta(k).get("export", True)}
    row = exported_row(item)
    assert row == expected
    assert list(row) == list(EXPORT_FIELDS)
    assert "hits_scripted" not in row and "attachments_found" not in row and "pubdate_raw" not in row


def test_row_shares_no_container_with_the_item() -> None:
    item = _item()
    row = exported_row(item)
    row["charset"]["meta"] = "changed"
    row["attachments"][0]["warc"]["offset"] = 99
    row["attachments"].append({})
    assert item.charset == {"header": None, "meta": "utf-8", "used": "utf-8"}
    assert item.attachments == [{"url": "http://portal.example/a.pdf", "name": "a.pdf", "warc": {"offset": 1}}]


def test_nested_items_and_other_item_types_go_through_itemadapter() -> None:
    item = _item()
    item.source = _Nested()  # type: ignore[assignment]
    item.charset = {"used": "utf-8", "tags": (_Nested("t"),)}
    row = exported_row(item)
    assert row["source"] == {"name": "n"}
    assert row["charset"]["tags"] == ({"name": "t"},)
    assert exported_row({"a": [1, {"b": 2}]}) == {"a": [1, {"b": 2}]}


def test_skip_reasons_of_skip_record_codes() -> None:
    assert [skip_reason_of(code) for code in ("size-limit", "http-404", "http-503", "out-of-scope", "robots",
                                               "fetch-failed", "ignored", "something-new", None)] == [
        "too_large", "http_error", "http_error", "out_of_scope", "robots", "failed", "failed", "failed", "failed"]
    for reason in SKIP_REASONS:  # a row's own reason maps to itself
        assert skip_reason_of(reason) == reason


def test_attachment_fields_say_archived_or_why_not() -> None:
    found = found_attachment("http://portal.example/a.pdf", "a.pdf")
    assert found["skip_reason"] == "not_fetched" and found["warc"] is None and awaits_fetch(found)
    bad = found_attachment("http://[bad/a.pdf", "a.pdf", malformed=True)
    assert bad["skip_reason"] == "malformed_url" and not awaits_fetch(bad)
    assert skipped_attachment("application/pdf", "1500000", "size-limit") == {
        "content_type": "application/pdf", "size": 1500000, "payload_digest": None, "warc": None,
        "skip_reason": "too_large"}
    assert archived_attachment("application/pdf", 10, None)["skip_reason"] == "failed"
    assert skipped_attachment(None, "9" * 30, "size-limit")["size"] is None  # a hostile Content-Length
    assert skipped_attachment(None, "１２", "size-limit")["size"] is None
