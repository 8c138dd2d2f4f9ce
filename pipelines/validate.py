"""Validation of release records against ``schemas/release-v1.schema.json`` (JSON Schema draft 2020-12).

Two validators of the same schema: ``jsonschema-rs`` (compiled, ~4 µs a record) decides first, and only a record
it rejects goes to ``jsonschema`` (~280 µs), which names the error; when ``jsonschema`` finds no error the record
is valid. So ``jsonschema`` keeps the last word and the messages, and valid records take the fast path.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from scrapy.exceptions import DropItem

from crawler.items import exported_row

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

SCHEMA_RESOURCE = "schemas/release-v1.schema.json"


@lru_cache(maxsize=1)
def load_release_schema() -> dict[str, Any]:
    """The v1 release record schema, as a dict (loaded once)."""
    text = resources.files("pipelines").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def release_validator() -> Draft202012Validator:
    """A compiled validator for the v1 schema (the schema itself is checked once)."""
    schema = load_release_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@lru_cache(maxsize=1)
def fast_release_validator() -> jsonschema_rs.Draft202012Validator:
    """The same v1 schema compiled by ``jsonschema-rs``: a quick yes for valid records (no error messages)."""
    return jsonschema_rs.Draft202012Validator(load_release_schema())


def _fast_valid(record: dict[str, Any]) -> bool:
    """True when ``jsonschema-rs`` accepts *record*; False (so ``jsonschema`` decides) when it rejects or fails."""
    try:
        return bool(fast_release_validator().is_valid(record))
    except Exception:  # a value it cannot convert (e.g. an int beyond 64 bits): let jsonschema judge
        return False


def error_path(error: ValidationError) -> str:
    """A JSON-pointer-like path of a validation error (``/`` for the record itself)."""
    return "/" + "/".join(str(part) for part in error.absolute_path)


def first_error(record: dict[str, Any]) -> ValidationError | None:
    """The most relevant validation error of a record, or None when it is valid."""
    if _fast_valid(record):
        return None
    error: ValidationError | None = best_match(release_validator().iter_errors(record))
    return error


def row_problem(row: dict[str, Any]) -> str | None:
    """What is wrong with a row against the v1 schema (``at /path: message``), or None when it is valid."""
    error = first_error(row)
    return None if error is None else f"at {error_path(error)}: {error.message}"


class SchemaValidationPipeline:
    """Drop items that do not validate against the v1 schema (stat ``releases/invalid``)."""

    def __init__(self, stats: StatsCollector | None = None) -> None:
        self.stats = stats
        self.validator = release_validator()
        fast_release_validator()  # compile both at start-up, not on the first item

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SchemaValidationPipeline:
        """Build the pipeline with the crawler's stats collector."""
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Return the item when valid, else raise ``DropItem`` naming the first error's path."""
        record = exported_row(item)
        if _fast_valid(record):
            return item
        error = best_match(self.validator.iter_errors(record))
        if error is None:
            return item
        if self.stats is not None:
            self.stats.inc_value("releases/invalid")
        raise DropItem(f"release record invalid at {error_path(error)}: {error.message}")
