"""Writing ``report.json`` (validated against its schema first) and ``report.html``, each replaced atomically."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from archives.atomic_file import replace_file
from crawler.report.build import load_schema
from crawler.report.html import render_html

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


class ReportInvalid(ValueError):
    """A report that does not validate against its schema (a bug: never written)."""


def validate_report(report: Mapping[str, Any]) -> None:
    """Raise `ReportInvalid` naming the first problem when *report* does not match the schema."""
    errors = sorted(Draft202012Validator(load_schema()).iter_errors(report), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise ReportInvalid(f"report.json does not validate at {where}: {error.message}")


def write_report(report_dir: Path, report: Mapping[str, Any], *, plots: bool = True) -> tuple[Path, Path]:
    """Validate, then write ``report.json`` and ``report.html`` (with its plots unless *plots* is False) into
    *report_dir*; return both paths."""
    validate_report(report)
    report_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = report_dir / REPORT_JSON, report_dir / REPORT_HTML
    replace_file(json_path, (json.dumps(report, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    replace_file(html_path, render_html(report, plots=plots).encode("utf-8"))
    return json_path, html_path
