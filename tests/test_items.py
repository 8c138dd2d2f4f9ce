"""``exported_row``: the JSON-ready row of an item, read field by field for a ``ReleaseItem``."""

from __future__ import annotations

from dataclasses import dataclass

from itemadapter import ItemAdapter

from crawler.items import EXPORT_FIELDS, ReleaseItem, exported_row


@dataclass
class _Nested:
    name: str = "n"


def _item() -> ReleaseItem:
    return ReleaseItem(
        release_id="demo:1", url="http://portal.example/art/2024/1/1/art_1_1.html",
        column={"id": "1", "name": None}, title="标题", hits=3, body_text="正文",
        attachments=[{"url": "http://portal.example/a.pdf", "name": "a.pdf", "warc": {"offset": 1}}],
        charset={"header": None, "meta": "utf-8", "used": "utf-8"}, hits_scripted=True,
        attachments_found=[{"url": "http://portal.example/a.pdf", "name": "a.pdf"}],
    )


def test_row_equals_itemadapters_and_leaves_out_working_fields() -> None:
    item = _item()
    adapter = ItemAdapter(item)
    expected = {k: v for k, v in adapter.asdict().items() if adapter.get_field_meta(k).get("export", True)}
    row = exported_row(item)
    assert row == expected
    assert list(row) == list(EXPORT_FIELDS)
    assert "hits_scripted" not in row and "attachments_found" not in row


def test_row_shares_no_container_with_the_item() -> None:
    item = _item()
    row = exported_row(item)
    row["column"]["name"] = "changed"
    row["attachments"][0]["warc"]["offset"] = 99
    row["attachments"].append({})
    assert item.column == {"id": "1", "name": None}
    assert item.attachments == [{"url": "http://portal.example/a.pdf", "name": "a.pdf", "warc": {"offset": 1}}]


def test_nested_items_and_other_item_types_go_through_itemadapter() -> None:
    item = _item()
    item.source = _Nested()  # type: ignore[assignment]
    item.column = {"id": "1", "name": None, "tags": (_Nested("t"),)}
    row = exported_row(item)
    assert row["source"] == {"name": "n"}
    assert row["column"]["tags"] == ({"name": "t"},)
    assert exported_row({"a": [1, {"b": 2}]}) == {"a": [1, {"b": 2}]}
