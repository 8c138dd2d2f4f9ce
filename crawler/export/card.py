"""The dataset card of a crawl: ``OUT/datapackage.json`` (a Frictionless Data Package) and ``OUT/README.md``.

The package describes ``releases.jsonl`` (with a Table Schema of the row fields), ``failures.jsonl``,
``events.jsonl`` and ``report.json`` as resources, and says what was crawled, when, by which software and extractor,
how many rows, under which terms (``DATASET_TERMS``, ``DATASET_LICENSE``: the operator's), and how to cite it.
``README.md`` says the same for people. Both are written at the end of every crawl (`DatasetCardExtension`) and by
``crawler export OUT --card``, each replaced atomically; a ``README.md`` the crawler did not write is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from archives.atomic_file import replace_file
from crawler.export.arrow_schema import COLUMNS
from crawler.export.source import CrawlDir, run_ids
from crawler.export.write import software
from crawler.items import EXPORT_FIELDS, SCHEMA_VERSION
from pipelines import EXTRACTOR_VERSION

DATAPACKAGE = "datapackage.json"
README = "README.md"
#: The first line of every README.md the crawler writes (one without it is someone else's: never replaced).
README_MARK = "<!-- dataset card by district-portal-archiver: rewritten at every crawl and by crawler export --card -->"

_ROW_TYPES = {"schema_version": "integer", "hits": "integer", "release_date": "date", "release_datetime": "datetime",
              "fetched_at": "datetime", "attachments": "array", "charset": "object", "warc": "object"}
_ROW_REQUIRED = ("schema_version", "extractor_version", "release_id", "portal", "url", "charset")
_ROW_TEXT = {
    "release_datetime": "the release time, RFC 3339 with +08:00 (Asia/Shanghai); null when the page gives no time",
    "fetched_at": "when the response was captured: RFC 3339 UTC (Z)",
    "attachments": "files linked from the article: objects {url, name, content_type, size, payload_digest, warc, "
                   "skip_reason}; [] when none, null when not looked for",
    "charset": "object {header, meta, used}: the declared charsets and the codec used",
    "warc": "object {filename, offset, length, record_id, payload_digest}: the page's WARC response record",
}
_COLUMN_TEXT = {name: text for name, _, _, text in COLUMNS}

#: (field, Table Schema type, description) of a failures.jsonl line (docs/schema.md, crawler/fetch/failure_log.py).
FAILURE_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("status", "string", "always failed"),
    ("reason", "string", "machine-readable reason (docs/reliability.md)"),
    ("url", "string", "the URL the crawl gave up on"),
    ("method", "string", "the HTTP method"),
    ("http_status", "integer", "the final HTTP status, null without a response"),
    ("detail", "string", "the error in words"),
    ("redirect_urls", "array", "the redirects followed, null when none"),
    ("via", "string", "the page that led to the URL"),
    ("release", "boolean", "whether the URL was a release page"),
    ("run_id", "string", "the run"),
    ("portal", "string", "the portal id"),
    ("warc", "object", "the archived response record, null when none"),
    ("at", "datetime", "when (UTC)"),
)
#: (field, Table Schema type, description) of an events.jsonl line (crawler/recurring/schemas/events-v1.schema.json).
EVENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("schema_version", "integer", "the event schema version (1)"),
    ("event_id", "string", "equal for a repeat of the same event (drop repeats by it)"),
    ("event", "string", "hits_changed, release_changed or release_removed"),
    ("portal", "string", "the portal id"),
    ("release_id", "string", "the release (joins releases.release_id)"),
    ("url", "string", "the release page URL"),
    ("run_id", "integer", "the run number in the crawl state"),
    ("detected_at", "datetime", "when the run saw it (UTC)"),
    ("old", "object", "{hits, fingerprint, status, last_seen, reason} before"),
    ("new", "object", "{hits, fingerprint, status, last_seen, reason} after"),
    ("warc", "object", "the capture that shows the new state"),
)


@dataclass(frozen=True)
class CardOptions:
    """What the operator says about the data: the terms note and a licence (an id such as CC-BY-4.0, or a URL)."""

    terms: str = ""
    license: str = ""


@dataclass
class Summary:
    """What the rows of a crawl say about it (one pass over ``releases.jsonl``)."""

    rows: int = 0
    portals: set[str] = field(default_factory=set)
    extractor_versions: set[str] = field(default_factory=set)
    release_dates: list[str] = field(default_factory=list)  # [first, last]
    fetched: list[str] = field(default_factory=list)  # [first, last]

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        self.portals.add(str(row.get("portal")))
        self.extractor_versions.add(str(row.get("extractor_version")))
        _widen(self.release_dates, row.get("release_date"))
        _widen(self.fetched, row.get("fetched_at"))


def _widen(span: list[str], value: Any) -> None:
    if isinstance(value, str) and value:
        if not span:
            span.extend((value, value))
        else:
            span[0], span[1] = min(span[0], value), max(span[1], value)


def summarize(path: Path) -> Summary:
    """One pass over a releases file (lines that are no JSON object are not counted here; export checks them)."""
    summary = Summary()
    with path.open("rb") as handle:
        for line in handle:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                summary.add(row)
    return summary


def count_lines(path: Path) -> int:
    """The number of lines of a file (0 when it is absent)."""
    if not path.is_file():
        return 0
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _table_schema(fields: Any) -> dict[str, Any]:
    return {"fields": [{"name": name, "type": kind, "description": text} for name, kind, text in fields]}


def release_fields() -> list[tuple[str, str, str]]:
    """(field, Table Schema type, description) of a release row (schema 2), in the rows' key order."""
    return [(name, _ROW_TYPES.get(name, "string"), _ROW_TEXT.get(name) or _COLUMN_TEXT.get(name, ""))
            for name in EXPORT_FIELDS]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def build_datapackage(crawl: CrawlDir, options: CardOptions, summary: Summary) -> dict[str, Any]:
    """The ``datapackage.json`` of *crawl* (a Frictionless Data Package, v1 profile)."""
    report = _read_json(crawl.report)
    runs = run_ids(crawl)
    portals = sorted(summary.portals) or [str(report.get("portal") or "unknown")]
    start_urls = list((report.get("run") or {}).get("start_urls") or [])
    releases_schema = _table_schema(release_fields())
    for entry in releases_schema["fields"]:
        if entry["name"] in _ROW_REQUIRED:
            entry["constraints"] = {"required": True}
    resources: list[dict[str, Any]] = [{
        "name": "releases", "path": crawl.releases.name, "profile": "tabular-data-resource", "format": "jsonl",
        "mediatype": "application/jsonl", "encoding": "utf-8", "bytes": crawl.releases.stat().st_size,
        "description": "one capture of one release page per line (schema 2: docs/schema.md); recurring runs append "
                       "a row per new or changed release: crawler export --latest gives one row per release_id",
        "schema": releases_schema}]
    for path, name, fields, text in (
            (crawl.failures, "failures", FAILURE_FIELDS, "one line per request the crawl gave up on"),
            (crawl.events, "events", EVENT_FIELDS, "what recurring runs noticed: hit counts, changes, removals")):
        if count_lines(path):  # an empty file has no header to read: Frictionless readers refuse it
            resources.append({"name": name, "path": path.name, "profile": "tabular-data-resource", "format": "jsonl",
                              "mediatype": "application/jsonl", "encoding": "utf-8", "bytes": path.stat().st_size,
                              "description": text, "schema": _table_schema(fields)})
    if crawl.report.is_file():
        resources.append({"name": "report", "path": crawl.report.name, "type": "json", "format": "json",
                          "mediatype": "application/json", "encoding": "utf-8",
                          "description": "the last run's verdict and accounting (docs/report.md)"})
    package: dict[str, Any] = {
        "profile": "data-package",
        "name": "-".join(portals)[:80] + "-releases",
        "title": f"Releases of the portal{'s' if len(portals) > 1 else ''} {', '.join(portals)}",
        "description": _description(summary, start_urls, runs, options),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "keywords": ["web archive", "government portal", "Hanweb", "WARC", *portals],
        "sources": [{"title": url, "path": url} for url in start_urls],
        "contributors": [{"title": software(), "role": "author"}],
        "resources": resources,
        "crawler": {
            "software": software(), "extractor_version": EXTRACTOR_VERSION,
            "extractor_versions": sorted(summary.extractor_versions), "schema_version": SCHEMA_VERSION,
            "run_ids": runs, "portals": portals, "start_urls": start_urls,
            "release_dates": summary.release_dates, "fetched": summary.fetched,
            "counts": {"rows": summary.rows, "failures": count_lines(crawl.failures),
                       "events": count_lines(crawl.events)},
            "last_run": {"run_id": report.get("run_id"), "outcome": (report.get("verdict") or {}).get("outcome"),
                         "started_at": (report.get("run") or {}).get("started_at"),
                         "finished_at": (report.get("run") or {}).get("finished_at")},
            "terms": options.terms,
            "citation": citation(portals, start_urls, runs, summary),
        },
    }
    if options.license:
        key = "path" if "://" in options.license else "name"
        package["licenses"] = [{key: options.license, "title": options.license}]
    if not package["sources"]:
        del package["sources"]
    return package


def _description(summary: Summary, start_urls: list[str], runs: list[str], options: CardOptions) -> str:
    where = f" from {', '.join(start_urls)}" if start_urls else ""
    span = f", release dates {summary.release_dates[0]} to {summary.release_dates[1]}" if summary.release_dates else ""
    text = (f"{summary.rows} release rows{where}, archived in WARC files with one JSON Lines row per release "
            f"capture{span}; {len(runs)} run(s).")
    return f"{text} Terms: {options.terms}" if options.terms else text


def citation(portals: list[str], start_urls: list[str], runs: list[str], summary: Summary) -> str:
    """How to cite the dataset: portal, source, runs, dates, software and extractor."""
    when = f"captured {summary.fetched[0][:10]} to {summary.fetched[1][:10]}" if summary.fetched else "not captured"
    source = f" ({', '.join(start_urls)})" if start_urls else ""
    run = f", runs {runs[0]} to {runs[-1]}" if len(runs) > 1 else (f", run {runs[0]}" if runs else "")
    return (f"Releases of {', '.join(portals)}{source}, web archive, {when}{run}; {summary.rows} rows, "
            f"made with {software()} (extractor {EXTRACTOR_VERSION}, record schema {SCHEMA_VERSION}).")


def render_readme(package: Mapping[str, Any]) -> str:
    """``README.md``: the card for people (what, when, which version, counts, fields, terms, citation)."""
    meta = package["crawler"]
    counts, last = meta["counts"], meta["last_run"]
    lines = [README_MARK, "", f"# {package['title']}", "", package["description"], "",
             "| | |", "|---|---|",
             f"| portal(s) | {', '.join(meta['portals'])} |",
             f"| start URLs | {', '.join(meta['start_urls']) or '(not recorded)'} |",
             f"| runs | {len(meta['run_ids'])}: {', '.join(meta['run_ids']) or '(not recorded)'} |",
             f"| last run | {last['run_id'] or '-'}: {last['outcome'] or '-'}, {last['started_at'] or '-'} to "
             f"{last['finished_at'] or '-'} (report.json) |",
             f"| captured | {' to '.join(meta['fetched']) or '-'} (UTC) |",
             f"| release dates | {' to '.join(meta['release_dates']) or '-'} (Beijing calendar) |",
             f"| software | {meta['software']}, extractor {meta['extractor_version']} "
             f"(rows made by {', '.join(meta['extractor_versions']) or '-'}), record schema {meta['schema_version']} |",
             f"| card written | {package['created']} |", "",
             "## Files", "", "| file | rows | what |", "|---|---|---|"]
    for resource in package["resources"]:
        rows = {"releases": counts["rows"], "failures": counts["failures"], "events": counts["events"]}
        lines.append(f"| `{resource['path']}` | {rows.get(resource['name'], '-')} | {resource['description']} |")
    lines += ["| `warc/` | | the WARC 1.1 files every row points into (`warc`: filename, offset, length) |", "",
              "`datapackage.json` describes the same files for Frictionless tools. One row per release: "
              "`crawler export OUT --latest -o releases.parquet` (typed Parquet; `--format csv`, `--format jsonl`).",
              "", "## Fields of `releases.jsonl`", "", "| field | type | meaning |", "|---|---|---|"]
    for entry in package["resources"][0]["schema"]["fields"]:
        required = " (never null)" if entry.get("constraints", {}).get("required") else ""
        lines.append(f"| `{entry['name']}` | {entry['type']}{required} | {entry['description']} |")
    licenses = ", ".join(item.get("name") or item.get("path", "") for item in package.get("licenses", []))
    lines += ["", "Dates are Beijing time (Asia/Shanghai, +08:00); `fetched_at` is UTC.", "",
              "## Terms", "", meta["terms"] or "The operator set no terms for this crawl (`DATASET_TERMS`).", ""]
    if licenses:
        lines += [f"Licence: {licenses}", ""]
    lines += ["## How to cite", "", meta["citation"], ""]
    return "\n".join(lines)


def previous_options(crawl: CrawlDir) -> CardOptions:
    """The terms and licence of the card already in *crawl* (kept when a card is rewritten without new ones)."""
    package = _read_json(crawl.path / DATAPACKAGE)
    licenses = package.get("licenses") or [{}]
    first = licenses[0] if isinstance(licenses[0], dict) else {}
    return CardOptions(terms=str((package.get("crawler") or {}).get("terms") or ""),
                       license=str(first.get("name") or first.get("path") or ""))


def write_card(crawl: CrawlDir, options: CardOptions) -> list[Path]:
    """Write ``datapackage.json`` and (unless someone else's is there) ``README.md`` into *crawl*; their paths."""
    previous = previous_options(crawl)
    options = CardOptions(terms=options.terms or previous.terms, license=options.license or previous.license)
    package = build_datapackage(crawl, options, summarize(crawl.releases))
    written = [crawl.path / DATAPACKAGE]
    replace_file(written[0], (json.dumps(package, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    readme = crawl.path / README
    if not readme.exists() or readme.read_text(encoding="utf-8", errors="replace").startswith(README_MARK):
        replace_file(readme, render_readme(package).encode("utf-8"))
        written.append(readme)
    return written
