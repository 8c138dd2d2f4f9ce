"""The release record schemas (v2 for new rows, v1 for old crawls) and the validation pipeline."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from scrapy.exceptions import DropItem
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.items import EXPORT_FIELDS, SCHEMA_VERSION, ReleaseItem
from pipelines import EXTRACTOR_VERSION
from pipelines.validate import (
    SchemaValidationPipeline,
    _fast_valid,
    fast_release_validator,
    first_error,
    format_checker,
    load_release_schema,
    release_validator,
    row_problem,
)

FIELD_ORDER = [
    "schema_version", "extractor_version", "release_id", "portal", "url", "column_id", "column_name", "title",
    "release_date", "release_datetime", "release_time_precision", "release_raw", "release_source", "hits",
    "hits_raw", "source", "index_no", "doc_no", "body_text", "body_html", "attachments", "language", "charset",
    "fetched_at", "warc",
]  # fmt: skip
V1_FIELD_ORDER = [
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
        "schema_version": 2,
        "extractor_version": EXTRACTOR_VERSION,
        "release_id": "binjiang:6001_45304",
        "portal": "binjiang",
        "url": "http://www.hhtz.gov.cn/art/2016/8/15/art_6001_45304.html",
        "column_id": "6001",
        "column_name": "News",
        "title": "CPPCC Chairman Meeting",
        "release_date": "2016-08-15",
        "release_datetime": "2016-08-15T11:16:50+08:00",
        "release_time_precision": "second",
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
                "content_type": "application/pdf",
                "size": 3000000,
                "payload_digest": None,
                "warc": None,
                "skip_reason": "too_large",
            },
            {
                "url": "http://www.hhtz.gov.cn/module/download/downfile.jsp?filename=b.pdf",
                "name": "b.pdf",
                "content_type": "application/pdf",
                "size": 1200,
                "payload_digest": WARC["payload_digest"],
                "warc": dict(WARC),
                "skip_reason": None,
            },
        ],
        "language": "en",
        "charset": {"header": "utf-8", "meta": "utf-8", "used": "utf-8"},
        "fetched_at": "2026-01-01T00:00:00Z",
        "warc": dict(WARC),
    }


def v1_record() -> dict[str, Any]:
    """A row as schema version 1 wrote it (older crawls; ``crawler verify`` still checks them)."""
    record = valid_record()
    column = {"id": record.pop("column_id"), "name": record.pop("column_name")}
    del record["release_time_precision"]
    record = {key: record[key] if key != "column" else column for key in V1_FIELD_ORDER if key in record or
              key == "column"}
    record.update(schema_version=1, extractor_version="hanweb-extract/1.0.1", release_id="binjiang:45304",
                  release_datetime="2016-08-15T11:16+08:00", fetched_at="2026-01-01T00:00:00.123Z")
    record["attachments"] = [{key: value for key, value in a.items() if key != "skip_reason"}
                             for a in record["attachments"]]
    return record


@pytest.mark.parametrize(("version", "order"), [(2, FIELD_ORDER), (1, V1_FIELD_ORDER)])
def test_schema_is_valid_draft_2020_12_with_fields_in_order(version: int, order: list[str]) -> None:
    schema = load_release_schema(version)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(schema["properties"]) == order
    assert schema["required"] == order
    assert schema["additionalProperties"] is False


def test_new_rows_follow_the_v2_schema_and_the_items_field_order() -> None:
    assert SCHEMA_VERSION == 2 and list(EXPORT_FIELDS) == FIELD_ORDER
    assert ReleaseItem().schema_version == 2


def test_valid_record_passes_and_nulls_are_allowed() -> None:
    record = valid_record()
    assert first_error(record) is None
    record["release_datetime"] = "2016-08-15T11:16:00+08:00"
    record["release_time_precision"] = "minute"
    assert first_error(record) is None
    record.update(release_datetime=None, release_time_precision=None, warc=None, attachments=[], hits=0,
                  column_id=None, column_name=None)
    record["charset"]["used"] = "gb18030"
    assert first_error(record) is None
    record["attachments"] = None  # not looked for (the page did not parse)
    assert first_error(record) is None
    record["hits"] = 2**63 - 1
    assert first_error(record) is None


def test_v1_rows_of_older_crawls_still_validate_against_v1() -> None:
    record = v1_record()
    assert first_error(record) is None
    assert row_problem(record) is None
    record["release_datetime"] = "2016-08-15 11:16"
    assert (row_problem(record) or "").startswith("at /release_datetime: '2016-08-15 11:16' does not match")
    assert first_error(valid_record()) is None  # and a v2 row against v2


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("schema_version",), 3, "/schema_version"),
        (("release_id",), "Binjiang:45304", "/release_id"),
        (("release_id",), "binjiang:abc", "/release_id"),
        (("release_id",), "binjiang:6001_", "/release_id"),
        (("release_date",), "2016-8-15", "/release_date"),
        (("release_date",), "2016-02-30", "/release_date"),
        (("release_datetime",), "2016-08-15T11:16:50Z", "/release_datetime"),
        (("release_datetime",), "2016-08-15 11:16:50", "/release_datetime"),
        (("release_datetime",), "2016-08-15T11:16+08:00", "/release_datetime"),
        (("release_datetime",), "2016-08-15T25:16:00+08:00", "/release_datetime"),
        (("release_datetime",), "2016-02-30T11:16:00+08:00", "/release_datetime"),
        (("release_time_precision",), "hour", "/release_time_precision"),
        (("release_time_precision",), None, "/release_time_precision"),
        (("release_time_precision",), "minute", "/release_datetime"),
        (("release_source",), "createDate", "/release_source"),
        (("release_source",), "url_path", "/release_datetime"),
        (("hits",), -1, "/hits"),
        (("hits",), "12", "/hits"),
        (("hits",), 2**63, "/hits"),
        (("hits",), 10**30, "/hits"),
        (("language",), "fr", "/language"),
        (("charset", "used"), "gbk", "/charset/used"),
        (("fetched_at",), "2026-01-01T08:00:00+08:00", "/fetched_at"),
        (("fetched_at",), "2026-13-01T08:00:00Z", "/fetched_at"),
        (("fetched_at",), "2026-01-01T08:00:00.123Z", "/fetched_at"),
        (("column_id",), 6001, "/column_id"),
        (("column_id",), "", "/column_id"),
        (("warc", "offset"), -1, "/warc/offset"),
        (("attachments", 0, "url"), "", "/attachments/0/url"),
        (("attachments", 0, "skip_reason"), "size-limit", "/attachments/0/skip_reason"),
        (("attachments", 0, "skip_reason"), None, "/attachments/0/warc"),
        (("attachments", 1, "skip_reason"), "failed", "/attachments/1/warc"),
    ],
)
def test_invalid_values(path: tuple[Any, ...], value: Any, where: str) -> None:
    record = valid_record()
    target: Any = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    if not isinstance(value, int) or value < 2**63:
        assert not fast_release_validator().is_valid(record)  # the fast path never waves an invalid record through
    error = first_error(record)
    assert error is not None
    assert "/" + "/".join(str(p) for p in error.absolute_path) == where


def test_formats_are_checked_not_just_annotated() -> None:
    assert {"date", "date-time"} <= set(format_checker().checkers)
    for validator in (fast_release_validator(), release_validator()):
        record = valid_record()
        record["release_date"] = "2016-02-30"  # matches the pattern; only the format check refuses it
        assert not validator.is_valid(record)


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
    # a count beyond 64 bits is an error the fast validator cannot even read: jsonschema decides (and refuses)
    record = valid_record()
    record["hits"] = 10**30
    assert not _fast_valid(record)
    assert first_error(record) is not None
    record["hits"] = 12
    assert _fast_valid(record) and first_error(record) is None
    assert SchemaValidationPipeline().process_item(record) is record


def test_pipeline_from_crawler() -> None:
    crawler = get_crawler()
    crawler.stats = MemoryStatsCollector(crawler)
    pipeline = SchemaValidationPipeline.from_crawler(crawler)
    assert pipeline.stats is crawler.stats
