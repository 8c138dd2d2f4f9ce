"""Validation of release records against ``schemas/release-v{N}.schema.json`` (JSON Schema draft 2020-12).

New rows are schema version 2 (``crawler.items.SCHEMA_VERSION``); version 1 is kept to check the rows of older
crawls (``crawler verify``), chosen by each row's ``schema_version``. Formats are asserted, not just annotated:
``date`` and ``date-time`` (RFC 3339, through ``rfc3339-validator``) are checked by both validators.

Two validators of one schema: ``jsonschema-rs`` (compiled, a few µs a record) decides first, and only a record
it rejects goes to ``jsonschema`` (~300 µs), which names the error; when ``jsonschema`` finds no error the record
is valid. So ``jsonschema`` keeps the last word and the messages, and valid records take the fast path.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match
from scrapy.exceptions import DropItem

from crawler.items import SCHEMA_VERSION, exported_row

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

#: Schema versions this code can check, each with its file under ``pipelines/schemas``.
SCHEMA_VERSIONS = (1, 2)
#: The formats the release schemas use; each must really be checked (a missing checker library would skip it).
ASSERTED_FORMATS = ("date", "date-time")


def schema_resource(version: int = SCHEMA_VERSION) -> str:
    """The package-relative path of schema *version*."""
    return f"schemas/release-v{version}.schema.json"


@lru_cache(maxsize=len(SCHEMA_VERSIONS))
def load_release_schema(version: int = SCHEMA_VERSION) -> dict[str, Any]:
    """The release record schema of *version* (default: the one new rows follow), as a dict (loaded once)."""
    if version not in SCHEMA_VERSIONS:
        raise ValueError(f"no release schema version {version}; known: {SCHEMA_VERSIONS}")
    text = resources.files("pipelines").joinpath(schema_resource(version)).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@lru_cache(maxsize=1)
def format_checker() -> FormatChecker:
    """jsonschema's format checker, refusing to start when a format the schemas use would go unchecked."""
    checker: FormatChecker = Draft202012Validator.FORMAT_CHECKER
    missing = [name for name in ASSERTED_FORMATS if name not in checker.checkers]
    if missing:  # jsonschema checks date-time only when rfc3339-validator is installed
        raise RuntimeError(f"JSON Schema formats {missing} cannot be checked: install rfc3339-validator")
    return checker


@lru_cache(maxsize=len(SCHEMA_VERSIONS))
def release_validator(version: int = SCHEMA_VERSION) -> Draft202012Validator:
    """A validator for schema *version* with formats asserted (the schema itself is checked once)."""
    schema = load_release_schema(version)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=format_checker())


@lru_cache(maxsize=len(SCHEMA_VERSIONS))
def fast_release_validator(version: int = SCHEMA_VERSION) -> jsonschema_rs.Draft202012Validator:
    """The same schema compiled by ``jsonschema-rs``, formats asserted: a quick yes for valid records."""
    return jsonschema_rs.Draft202012Validator(load_release_schema(version), validate_formats=True)


def _version_of(record: dict[str, Any]) -> int:
    version = record.get("schema_version")
    return version if type(version) is int and version in SCHEMA_VERSIONS else SCHEMA_VERSION


def _fast_valid(record: dict[str, Any], version: int = SCHEMA_VERSION) -> bool:
    """True when ``jsonschema-rs`` accepts *record*; False (so ``jsonschema`` decides) when it rejects or fails."""
    try:
        return bool(fast_release_validator(version).is_valid(record))
    except Exception:  # a value it cannot convert (e.g. an int beyond 64 bits): let jsonschema judge
        return False


def error_path(error: ValidationError) -> str:
    """A JSON-pointer-like path of a validation error (``/`` for the record itself)."""
    return "/" + "/".join(str(part) for part in error.absolute_path)


def first_error(record: dict[str, Any]) -> ValidationError | None:
    """The most relevant validation error of a record against its own schema version, or None when it is valid.

    A row of an unknown version is checked against the current schema (its ``schema_version`` is then the error).
    """
    version = _version_of(record)
    if _fast_valid(record, version):
        return None
    error: ValidationError | None = best_match(release_validator(version).iter_errors(record))
    return error


def row_problem(row: dict[str, Any]) -> str | None:
    """What is wrong with a row against its schema (``at /path: message``), or None when it is valid."""
    error = first_error(row)
    return None if error is None else f"at {error_path(error)}: {error.message}"


class SchemaValidationPipeline:
    """Drop items that do not validate against the current schema (stat ``releases/invalid``)."""

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
