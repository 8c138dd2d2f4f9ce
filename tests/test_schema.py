"""The v1 release record schema and the validation pipeline."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from pipelines import EXTRACTOR_VERSION
from pipelines.validate import (
    SchemaValidationPipeline,
    fast_release_validator,
    first_error,
    load_release_schema,
)

FIELD_ORDER = [
    "schema_version", "extractor_version", "release_id", "portal", "url", "column", "title", "release_date",
    "release_datetime", "release_raw", "release_source", "hits", "hits_raw", "source", "index_no", "doc_no",
    "body_text", "body_html", "attachments", "language", "charset", "fetched_at", "warc",
]  # fmt: skip

WARC = {
    "filename": "bj-20260101000000000-00001-host.warc.gz",
    "offset": 1234,
    "length": 5678,
    "record_id": "<urn:uuid:6b3e1c2a-8f0e-4d55-9a57-2c1f0e9d7b11>",
    "payload_digest": "sha1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
}


def valid_record() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "extractor_version": EXTRACTOR_VERSION,
        "release_id": "binjiang:45304",
        "portal": "binjiang",
        "url": "http://www.hhtz.gov.cn/art/2016/8/15/art_6001_45304.html",
        "column": {"id": "6001", "name": "News"},
        "title": "CPPCC Chairman Meeting",
        "release_date": "2016-08-15",
        "release_datetime": "2016-08-15T11:16:50+08:00",
        "release_raw": "2016-08-15 11:16:50",
        "release_source": "labelled_text",
        "hits": None,
        "hits_raw": "",
        "source": None,
        "index_no": None,
        "doc_no": None,
        "body_text": "On 21 Jul., ...",
        "body_html": "<p>On 21 Jul., ...</p>",
        "attachments": [
            {
                "url": "http://www.hhtz.gov.cn/module/download/downfile.jsp?filename=a.pdf",
                "name": "a.pdf",
                "content_type": None,
                "size": None,
                "payload_digest": None,
                "warc": None,
            }
        ],
        "language": "en",
        "charset": {"header": "utf-8", "meta": "utf-8", "used": "utf-8"},
        "fetched_at": "2026-01-01T00:00:00.123Z",
        "warc": dict(WARC),
    }


def test_schema_is_valid_draft_2020_12_with_fields_in_order() -> None:
    schema = load_release_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(schema["properties"]) == FIELD_ORDER
    assert schema["required"] == FIELD_ORDER
    assert schema["additionalProperties"] is False


def test_valid_record_passes_and_minute_precision_is_allowed() -> None:
    record = valid_record()
    assert first_error(record) is None
    record["release_datetime"] = "2016-08-15T11:16+08:00"
    record["warc"] = None
    record["attachments"] = None
    record["charset"]["used"] = "gb18030"
    assert first_error(record) is None


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("schema_version",), 2, "/schema_version"),
        (("release_id",), "Binjiang:45304", "/release_id"),
        (("release_id",), "binjiang:abc", "/release_id"),
        (("release_date",), "2016-8-15", "/release_date"),
        (("release_datetime",), "2016-08-15T11:16:50Z", "/release_datetime"),
        (("release_datetime",), "2016-08-15 11:16:50", "/release_datetime"),
        (("release_source",), "createDate", "/release_source"),
        (("hits",), -1, "/hits"),
        (("hits",), "12", "/hits"),
        (("language",), "fr", "/language"),
        (("charset", "used"), "gbk", "/charset/used"),
        (("fetched_at",), "2026-01-01T08:00:00+08:00", "/fetched_at"),
        (("column", "id"), 6001, "/column/id"),
        (("warc", "offset"), -1, "/warc/offset"),
        (("attachments", 0, "url"), "/relative.pdf", "/attachments/0/url"),
    ],
)
def test_invalid_values(path: tuple[Any, ...], value: Any, where: str) -> None:
    record = valid_record()
    target: Any = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not fast_release_validator().is_valid(record)  # the fast path never waves an invalid record through
    error = first_error(record)
    assert error is not None
    assert "/" + "/".join(str(p) for p in error.absolute_path) == where


def test_missing_and_extra_keys() -> None:
    record = valid_record()
    del record["hits_raw"]
    assert first_error(record) is not None
    record = valid_record()
    record["hits_scripted"] = True
    assert first_error(record) is not None
    record = valid_record()
    del record["warc"]["record_id"]
    assert first_error(record) is not None


def test_pipeline_passes_valid_and_drops_invalid_with_stat() -> None:
    crawler = get_crawler()
    stats = MemoryStatsCollector(crawler)
    pipeline = SchemaValidationPipeline(stats)
    record = valid_record()
    assert pipeline.process_item(record) is record
    bad = copy.deepcopy(record)
    bad["release_date"] = "15/08/2016"
    with pytest.raises(DropItem, match="/release_date"):
        pipeline.process_item(bad)
    assert stats.get_value("releases/invalid") == 1


def test_jsonschema_has_the_last_word_when_the_fast_validator_rejects() -> None:
    # Python's \d matches full-width digits, jsonschema-rs's does not: jsonschema decides, the record passes
    record = valid_record()
    record["release_date"] = "\uff12\uff10\uff11\uff16-08-15"
    assert not fast_release_validator().is_valid(record)
    assert first_error(record) is None
    assert SchemaValidationPipeline().process_item(record) is record


def test_pipeline_from_crawler() -> None:
    crawler = get_crawler()
    crawler.stats = MemoryStatsCollector(crawler)
    pipeline = SchemaValidationPipeline.from_crawler(crawler)
    assert pipeline.stats is crawler.stats
