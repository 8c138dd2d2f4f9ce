"""Validation of release records against ``schemas/release-v1.schema.json`` (JSON Schema draft 2020-12)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

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


def error_path(error: ValidationError) -> str:
    """A JSON-pointer-like path of a validation error (``/`` for the record itself)."""
    return "/" + "/".join(str(part) for part in error.absolute_path)


def first_error(record: dict[str, Any]) -> ValidationError | None:
    """The most relevant validation error of a record, or None when it is valid."""
    return best_match(release_validator().iter_errors(record))


class SchemaValidationPipeline:
    """Drop items that do not validate against the v1 schema (stat ``releases/invalid``)."""

    def __init__(self, stats: StatsCollector | None = None) -> None:
        self.stats = stats
        self.validator = release_validator()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SchemaValidationPipeline:
        """Build the pipeline with the crawler's stats collector."""
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Return the item when valid, else raise ``DropItem`` naming the first error's path."""
        record = exported_row(item)
        error = best_match(self.validator.iter_errors(record))
        if error is None:
            return item
        if self.stats is not None:
            self.stats.inc_value("releases/invalid")
        raise DropItem(f"release record invalid at {error_path(error)}: {error.message}")
