"""The Arrow schema of exported releases, written down once: the Parquet and CSV columns, their types and meanings.

A release row (schema 2, docs/schema.md) becomes one flat record: the ``charset`` and ``warc`` objects become
``charset_*`` and ``warc_*`` columns, ``release_date`` a ``date32``, ``release_datetime`` a
``timestamp[us, tz=Asia/Shanghai]`` (the same instant as the row's ``+08:00`` text), ``fetched_at`` a
``timestamp[us, tz=UTC]``, ``hits`` a nullable ``int64``, and ``attachments`` a list of flat structs in Parquet and
JSON text in CSV (``attachment_count`` in both). CSV keeps the rows' RFC 3339 texts for the two datetimes, so the
offset stays written as the portal's clock shows it. No column is named by a reserved word of SQL (``column_id``,
``column_name``, never ``column``). The tests, the dataset card and docs/loading.md read the schema from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa

#: The version of this table layout (a Parquet metadata value); bump it when a column is added, renamed or retyped.
EXPORT_FORMAT = "release-export/1"
#: The zone of ``release_date`` and ``release_datetime``: the portals' calendar and clock (UTC+8, no DST).
RELEASE_TZ = "Asia/Shanghai"

_ATTACHMENT_FIELDS: tuple[tuple[str, pa.DataType, str], ...] = (
    ("url", pa.string(), "the link as found, made absolute (as written when malformed)"),
    ("name", pa.string(), "the link text"),
    ("content_type", pa.string(), "the Content-Type sent, null when not archived (except a skip for size)"),
    ("size", pa.int64(), "bytes of the file; a file skipped for size: its declared length"),
    ("payload_digest", pa.string(), "WARC-Payload-Digest of the file's record"),
    ("warc_filename", pa.string(), "WARC file holding the file's response record"),
    ("warc_offset", pa.int64(), "offset of the record's gzip member"),
    ("warc_length", pa.int64(), "length of the record's gzip member"),
    ("warc_record_id", pa.string(), "WARC-Record-ID of the record"),
    ("skip_reason", pa.string(), "why the file was not archived (null: archived)"),
)
ATTACHMENT_STRUCT = pa.struct([pa.field(name, kind, nullable=name not in ("url", "name"),
                                        metadata={"description": text})
                               for name, kind, text in _ATTACHMENT_FIELDS])

#: (column, Arrow type in Parquet, nullable, description); CSV differs in the columns of `_CSV_TYPES`.
COLUMNS: tuple[tuple[str, pa.DataType, bool, str], ...] = (
    ("schema_version", pa.int8(), False, "the release record's schema version (2)"),
    ("extractor_version", pa.string(), False, "the extraction code that made the row"),
    ("release_id", pa.string(), False, "the release's identity: {portal}:{columnid}_{articleid}"),
    ("portal", pa.string(), False, "the portal id"),
    ("url", pa.string(), False, "the release page URL (after redirects)"),
    ("column_id", pa.string(), True, "the column (栏目) id"),
    ("column_name", pa.string(), True, "the column's name"),
    ("title", pa.string(), True, "the release title as text"),
    ("release_date", pa.date32(), True, "the release date (Beijing calendar)"),
    ("release_datetime", pa.timestamp("us", tz=RELEASE_TZ), True,
     "the release time, Asia/Shanghai (+08:00); null when the page gives no time of day"),
    ("release_time_precision", pa.string(), True, "second or minute: what the page gave"),
    ("release_raw", pa.string(), True, "the date text as found"),
    ("release_source", pa.string(), True, "where the date came from"),
    ("hits", pa.int64(), True, "the hit count the page printed; null when unknown (never 0 for unknown)"),
    ("hits_raw", pa.string(), True, "the count text after the hit label"),
    ("source", pa.string(), True, "来源: the issuing body"),
    ("index_no", pa.string(), True, "索引号: the information-disclosure index number"),
    ("doc_no", pa.string(), True, "文号: the document number"),
    ("body_text", pa.string(), True, "the article body as plain text"),
    ("body_html", pa.string(), True, "the cleaned article body HTML"),
    ("attachment_count", pa.int32(), True, "number of attachments; null when they were not looked for"),
    ("attachments", pa.list_(pa.field("element", ATTACHMENT_STRUCT)), True,  # "element": as Parquet names it
     "files linked from the article, in page order"),
    ("language", pa.string(), True, "zh or en"),
    ("charset_header", pa.string(), True, "the charset the HTTP header declared"),
    ("charset_meta", pa.string(), True, "the charset the page declared"),
    ("charset_used", pa.string(), False, "the codec the page was decoded with"),
    ("fetched_at", pa.timestamp("us", tz="UTC"), True, "when the response was captured (UTC)"),
    ("warc_filename", pa.string(), True, "WARC file holding the page's response record"),
    ("warc_offset", pa.int64(), True, "offset of the record's gzip member in the file"),
    ("warc_length", pa.int64(), True, "length of the record's gzip member"),
    ("warc_record_id", pa.string(), True, "WARC-Record-ID of the response record"),
    ("warc_payload_digest", pa.string(), True, "WARC-Payload-Digest of the response record"),
)

#: CSV columns whose type differs from Parquet's: RFC 3339 text keeps the written offset; JSON text for the list.
_CSV_TYPES: dict[str, tuple[str, pa.DataType, str]] = {
    "release_datetime": ("release_datetime", pa.string(),
                         "the release time as RFC 3339 text with its +08:00 offset (as in releases.jsonl)"),
    "fetched_at": ("fetched_at", pa.string(), "when the response was captured, RFC 3339 text in UTC (Z)"),
    "attachments": ("attachments_json", pa.string(), "the attachments as a JSON array (as in releases.jsonl)"),
}


def _field(name: str, kind: pa.DataType, nullable: bool, text: str) -> pa.Field:
    return pa.field(name, kind, nullable=nullable, metadata={"description": text})


PARQUET_SCHEMA = pa.schema([_field(*column) for column in COLUMNS])
CSV_SCHEMA = pa.schema([
    _field(_CSV_TYPES[name][0], _CSV_TYPES[name][1], nullable, _CSV_TYPES[name][2]) if name in _CSV_TYPES
    else _field(name, kind, nullable, text)
    for name, kind, nullable, text in COLUMNS
])

#: The key-value metadata of every exported Parquet file (values are UTF-8 text; JSON where marked).
METADATA_KEYS: tuple[tuple[str, str], ...] = (
    ("export_format", "the layout of this table (EXPORT_FORMAT)"),
    ("software", "the exporting software and its version"),
    ("schema_version", "the release record schema of the rows (2)"),
    ("extractor_version", "the extraction code of the exporting software"),
    ("extractor_versions", "JSON list: the extractor versions that made the exported rows"),
    ("crawls", "JSON list: each crawl directory exported, its portals and run ids"),
    ("latest", "true when only the latest capture of each release was kept (--latest)"),
    ("rows", "rows in the file"),
    ("rows_dropped", "older captures left out by --latest"),
    ("exported_at", "when the file was written (UTC, RFC 3339)"),
)


#: Nullable integer columns and the pandas dtype that keeps them integers (pandas' own Parquet metadata, the
#: ``pandas`` key, which ``pd.read_parquet`` honours; without it pandas reads them as float64 with NaN).
_PANDAS_INTEGERS = {"hits": "Int64", "attachment_count": "Int32", "warc_offset": "Int64", "warc_length": "Int64"}


def pandas_metadata() -> str:
    """The ``pandas`` schema metadata of the Parquet files: the nullable integer columns as pandas ``Int64``."""
    columns = [{"name": name, "field_name": name, "pandas_type": dtype.lower(), "numpy_type": dtype, "metadata": None}
               for name, dtype in _PANDAS_INTEGERS.items()]
    return json.dumps({"index_columns": [], "column_indexes": [], "columns": columns,
                       "creator": {"library": "district-portal-archiver", "version": EXPORT_FORMAT},
                       "pandas_version": "3.1.1"})


def parquet_schema(metadata: Mapping[str, str]) -> pa.Schema:
    """`PARQUET_SCHEMA` carrying *metadata* (the keys of `METADATA_KEYS`) and the ``pandas`` key."""
    return PARQUET_SCHEMA.with_metadata({**metadata, "pandas": pandas_metadata()})


def _date(text: Any) -> date | None:
    return date.fromisoformat(text) if text else None


def _datetime(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _attachment(item: Mapping[str, Any]) -> dict[str, Any]:
    warc = item.get("warc") or {}
    return {"url": item.get("url"), "name": item.get("name"), "content_type": item.get("content_type"),
            "size": item.get("size"), "payload_digest": item.get("payload_digest"),
            "warc_filename": warc.get("filename"), "warc_offset": warc.get("offset"),
            "warc_length": warc.get("length"), "warc_record_id": warc.get("record_id"),
            "skip_reason": item.get("skip_reason")}


def flat_row(row: Mapping[str, Any], *, csv: bool = False) -> dict[str, Any]:
    """One schema-2 release row as a record of `PARQUET_SCHEMA` (or of `CSV_SCHEMA` with *csv*)."""
    charset = row.get("charset") or {}
    warc = row.get("warc") or {}
    attachments = row.get("attachments")
    flat: dict[str, Any] = {name: row.get(name) for name, _, _, _ in COLUMNS}
    flat["release_date"] = _date(row.get("release_date"))
    flat["attachment_count"] = None if attachments is None else len(attachments)
    flat.update(charset_header=charset.get("header"), charset_meta=charset.get("meta"),
                charset_used=charset.get("used"), warc_filename=warc.get("filename"), warc_offset=warc.get("offset"),
                warc_length=warc.get("length"), warc_record_id=warc.get("record_id"),
                warc_payload_digest=warc.get("payload_digest"))
    if csv:
        del flat["attachments"]
        flat["attachments_json"] = None if attachments is None else json.dumps(attachments, ensure_ascii=False)
    else:
        flat["release_datetime"] = _datetime(row.get("release_datetime"))
        flat["fetched_at"] = _datetime(row.get("fetched_at"))
        flat["attachments"] = None if attachments is None else [_attachment(item) for item in attachments]
    return flat


def record_batch(rows: Sequence[Mapping[str, Any]], *, csv: bool = False) -> pa.RecordBatch:
    """A record batch of *rows* (schema-2 release rows) in the export schema."""
    schema = CSV_SCHEMA if csv else PARQUET_SCHEMA
    return pa.RecordBatch.from_pylist([flat_row(row, csv=csv) for row in rows], schema=schema)
