"""The release record (schema version 2), as a dataclass handled through itemadapter; see docs/schema.md."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from itemadapter import ItemAdapter

SCHEMA_VERSION = 2
#: The largest integer a row holds (sizes, counts): SQLite INTEGER, Arrow int64 and pandas Int64 take it.
MAX_INT64 = 2**63 - 1

_WARC_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,]\d+)?(Z|[+-]\d{2}:?\d{2})?$")

#: Why an attachment of a row has no archived record (``skip_reason``; null when it was archived). The WARC's skip
#: record (``archives.skip_records``) keeps its own, finer code; `skip_reason_of` maps it.
SKIP_REASONS = ("too_large", "http_error", "out_of_scope", "robots", "malformed_url", "url_too_long", "depth_limit",
                "failed", "not_fetched")
#: Skip-record codes (the ``skipped:`` field of the WARC metadata record) -> ``skip_reason``; ``http-NNN`` is
#: ``http_error``, anything unknown ``failed``.
_RECORD_CODES = {
    "size-limit": "too_large", "out-of-scope": "out_of_scope", "robots": "robots", "fetch-failed": "failed",
    "ignored": "failed", "malformed-url": "malformed_url", "url-too-long": "url_too_long",
    "depth-limit": "depth_limit",
}


@dataclass
class ReleaseItem:
    """One release of a portal; field order is the JSONL key order (see docs/schema.md)."""

    schema_version: int = SCHEMA_VERSION
    extractor_version: str | None = None
    release_id: str | None = None
    portal: str | None = None
    url: str | None = None
    column_id: str | None = None
    column_name: str | None = None
    title: str | None = None
    release_date: str | None = None
    release_datetime: str | None = None
    release_time_precision: str | None = None
    release_raw: str | None = None
    release_source: str | None = None
    hits: int | None = None
    hits_raw: str | None = None
    source: str | None = None
    index_no: str | None = None
    doc_no: str | None = None
    body_text: str | None = None
    body_html: str | None = None
    attachments: list[dict[str, Any]] | None = None
    language: str | None = None
    charset: dict[str, Any] | None = None
    fetched_at: str | None = None
    warc: dict[str, Any] | None = None
    # Working fields the pipelines consume; never exported (see ``EXPORT_FIELDS``).
    hits_scripted: bool = field(default=False, metadata={"export": False})
    attachments_found: list[dict[str, Any]] | None = field(default=None, metadata={"export": False})
    #: the PubDate-like meta's content when the date came from visible text (the pipeline may take its time)
    pubdate_raw: str | None = field(default=None, metadata={"export": False})


EXPORT_FIELDS: tuple[str, ...] = tuple(
    name
    for name, f in ReleaseItem.__dataclass_fields__.items()
    if f.metadata.get("export", True)
)


def fetched_at_of(warc_date: str | None) -> str | None:
    """A row's ``fetched_at``: the response record's WARC-Date (UTC) in one form, ``YYYY-MM-DDTHH:MM:SSZ``.

    WARC-Dates carry a fraction when the writer had one (ours: microseconds) and none otherwise; a column of mixed
    forms is one pandas refuses without options, so the row keeps whole seconds (the record keeps the fraction).
    """
    if not warc_date:
        return None
    m = _WARC_DATE_RE.match(warc_date.strip())
    if m is None:
        return None
    moment = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}").replace(tzinfo=UTC)
    offset = m.group(3)
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def skip_reason_of(record_code: str | None) -> str:
    """The row's ``skip_reason`` for a skip record's code (``size-limit``, ``http-404``, ...)."""
    code = (record_code or "").strip().lower()
    if code.startswith("http-"):
        return "http_error"
    if code in SKIP_REASONS:
        return code
    return _RECORD_CODES.get(code, "failed")


def found_attachment(url: str, name: str, malformed: bool = False) -> dict[str, Any]:
    """An attachment as the page links it, before any fetch: every fetch field null, ``skip_reason`` not_fetched
    (``malformed_url`` for a link no URL can be made of, kept as written and never requested).

    The crawl replaces the fetch fields when the file is archived or skipped; ``crawler extract`` (no fetch) and a
    crawl with attachments switched off keep them.
    """
    return {"url": url, "name": name, "content_type": None, "size": None, "payload_digest": None, "warc": None,
            "skip_reason": "malformed_url" if malformed else "not_fetched"}


def awaits_fetch(attachment: dict[str, Any]) -> bool:
    """True for an attachment the crawl still has to fetch or skip (not one already decided, e.g. malformed)."""
    return attachment.get("skip_reason") == "not_fetched"


def archived_attachment(content_type: str | None, size: int, pointer: Any) -> dict[str, Any]:
    """The fetch fields of an archived attachment; *pointer* is the capture's ``WarcPointer`` (None: not captured)."""
    return {"content_type": content_type, "size": size,
            "payload_digest": pointer.payload_digest if pointer is not None else None,
            "warc": pointer.row() if pointer is not None else None,
            "skip_reason": None if pointer is not None else "failed"}


def skipped_attachment(content_type: Any, declared_size: Any, record_code: str | None = None) -> dict[str, Any]:
    """The fetch fields of an attachment that was not archived (its skip record, coded *record_code*, says why)."""
    declared = str(declared_size) if declared_size is not None else ""
    size = int(declared) if declared.isascii() and declared.isdigit() else None
    return {"content_type": str(content_type) if content_type else None,
            "size": size if size is not None and size <= MAX_INT64 else None,  # a hostile Content-Length: unknown
            "payload_digest": None, "warc": None, "skip_reason": skip_reason_of(record_code)}


def _plain(value: Any) -> Any:
    """A copy of *value* as ``ItemAdapter.asdict`` makes it: containers copied recursively, items turned to dicts."""
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | set | tuple):
        return value.__class__(_plain(inner) for inner in value)
    return ItemAdapter(value).asdict() if ItemAdapter.is_item(value) else value


def exported_row(item: Any) -> dict[str, Any]:
    """The item as a JSON-ready dict, in field order, without fields whose metadata says ``export: False``.

    A ``ReleaseItem`` is read field by field (validation, the recurring stage and the JSONL export each call
    this for every item, and ``ItemAdapter.asdict`` costs several times more); other items go through itemadapter.
    The row never shares a dict or list with the item.
    """
    if type(item) is ReleaseItem:
        return {name: _plain(getattr(item, name)) for name in EXPORT_FIELDS}
    adapter = ItemAdapter(item)
    return {key: value for key, value in adapter.asdict().items()
            if adapter.get_field_meta(key).get("export", True)}
