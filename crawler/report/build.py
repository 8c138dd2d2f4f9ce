"""``report.json`` of a run, built from its stats and its output files (live at close, or by ``crawler report``).

The same function serves both: the live crawl passes its final stats, ``crawler report OUT`` reads them back from
the JSON dump in ``crawl.log`` (`crawler.report.outputs.read_stats`), so a report rebuilt from the outputs says what
the live one said. Crawls older than the dump get what their rows, failure rows and WARC files tell. The schema is
``crawler/report/schemas/report-v1.schema.json`` (docs/report.md).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.report.outputs import failure_rows, iter_jsonl, read_stats, warc_facts
from crawler.report.verdict import Verdict, columns, decide, prefixed

REPORT_VERSION = 1
SCHEMA_RESOURCE = "schemas/report-v1.schema.json"
#: Row fields whose share of rows is the report's field coverage.
COVERAGE_FIELDS = ("title", "release_date", "release_datetime", "source", "index_no", "doc_no", "hits",
                   "body_text", "attachments")
#: Upper bounds of the hit-count bins (the last is open).
HIT_BINS = (0, 9, 99, 999, 9_999, 99_999, 999_999)
EXAMPLES = 50


@dataclass(frozen=True)
class ReportPaths:
    """Where a run's outputs are and where its report goes."""

    releases: Path
    failures: Path
    warc_dir: Path
    log: Path
    report_dir: Path

    @classmethod
    def of(cls, out_dir: Path) -> ReportPaths:
        """The layout ``crawler crawl --out OUT`` writes."""
        return cls(out_dir / "releases.jsonl", out_dir / "failures.jsonl", out_dir / "warc", out_dir / "crawl.log",
                   out_dir)


def load_schema() -> dict[str, Any]:
    """The report's JSON Schema (draft 2020-12)."""
    text = resources.files("crawler.report").joinpath(SCHEMA_RESOURCE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _int(stats: Mapping[str, Any], key: str) -> int:
    try:
        return int(stats.get(key) or 0)
    except (TypeError, ValueError):
        return 0


def _iso(value: Any) -> str | None:
    """A stats time (a datetime live, its str() in the JSON dump) as RFC 3339 UTC with seconds."""
    if value is None:
        return None
    moment: datetime
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _counts(mapping: Mapping[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(mapping.items()) if isinstance(v, int | float) and int(v)}


def _column_of(row: Mapping[str, Any]) -> str | None:
    column = row.get("column")
    if isinstance(column, dict):
        value = column.get("id")
        return str(value) if value is not None else None
    value = row.get("column_id")  # schema 2.0
    return str(value) if value is not None else None


def _present(value: Any) -> bool:
    return value not in (None, "", [])


class RowFacts:
    """What the plots need from release rows, gathered in one pass (nothing kept per row)."""

    def __init__(self) -> None:
        self.rows = 0
        self.by_month: Counter[str] = Counter()
        self.by_column: Counter[str] = Counter()
        self.coverage: Counter[str] = Counter()
        self.hit_bins: Counter[int] = Counter()
        self.hits_max = 0
        self.attachments_archived = 0
        self.attachments_skipped: Counter[str] = Counter()
        self.urls: set[str] = set()

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        self.urls.add(str(row.get("url")))
        date = row.get("release_date")
        self.by_month[str(date)[:7] if isinstance(date, str) and len(date) >= 7 else "unknown"] += 1
        self.by_column[_column_of(row) or "unknown"] += 1
        for name in COVERAGE_FIELDS:
            if _present(row.get(name)):
                self.coverage[name] += 1
        hits = row.get("hits")
        if isinstance(hits, int) and hits >= 0:
            self.hits_max = max(self.hits_max, hits)
            self.hit_bins[next((i for i, top in enumerate(HIT_BINS) if hits <= top), len(HIT_BINS))] += 1
        for attachment in row.get("attachments") or []:
            if not isinstance(attachment, dict):
                continue
            if attachment.get("warc"):
                self.attachments_archived += 1
            else:
                self.attachments_skipped[str(attachment.get("skip_reason") or "not archived")] += 1

    def hits_histogram(self) -> list[dict[str, Any]]:
        bins, low = [], 0
        for index, top in enumerate((*HIT_BINS, None)):
            bins.append({"from": low, "to": top, "count": self.hit_bins.get(index, 0)})
            low = (top or 0) + 1
        return bins


def _row_facts(rows: Iterable[Mapping[str, Any]]) -> RowFacts:
    facts = RowFacts()
    for row in rows:
        facts.add(row)
    return facts


def _failures(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    by_reason: Counter[str] = Counter()
    by_host: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    examples: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        count += 1
        reason = str(row.get("reason"))
        by_reason[reason] += 1
        by_host[urlsplit(str(row.get("url") or "")).hostname or "?"] += 1
        by_kind["release" if row.get("release") else "other"] += 1
        if len(examples) < EXAMPLES and (row.get("release") or len(examples) < EXAMPLES // 2):
            examples.append({"url": row.get("url"), "reason": reason, "http_status": row.get("http_status"),
                             "via": row.get("via"), "detail": str(row.get("detail") or "")[:200],
                             "release": bool(row.get("release"))})
    return {"count": count, "by_reason": dict(by_reason.most_common()), "by_host": dict(by_host.most_common()),
            "by_kind": dict(by_kind), "examples": examples}


def _columns(stats: Mapping[str, Any], facts: RowFacts) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for column in columns(stats):
        found.append({"column_id": column.column_id, "name": column.name, "declared_total": column.declared,
                      "listed": column.listed, "archived": column.archived, "failed": column.failed,
                      "skipped": column.skipped, "short": column.short, "list_failures": column.list_failures,
                      "list_end": column.list_end})
    if not found:  # a crawl older than the accounting: the rows per column are all there is
        for column_id, count in sorted(facts.by_column.items()):
            found.append({"column_id": column_id, "name": None, "declared_total": None, "listed": count,
                          "archived": count, "failed": 0, "skipped": 0, "short": 0, "list_failures": 0,
                          "list_end": None})
    return found


def build_report(paths: ReportPaths, stats: Mapping[str, Any] | None = None, *, rebuilt: bool = False,
                 verdict: Verdict | None = None) -> dict[str, Any]:
    """The report of the run whose *stats* are given (else those in ``crawl.log``): see the module docstring."""
    known = stats is not None or (stats := read_stats(paths.log)) is not None
    stats = dict(stats or {})
    run_id = stats.get("run/id")
    start = _int(stats, "releases/offset_start") if "releases/offset_start" in stats else 0
    end = _int(stats, "releases/offset_end") if "releases/offset_end" in stats else None
    facts = _row_facts(iter_jsonl(paths.releases, start, end))
    failures = _failures(failure_rows(paths.failures, str(run_id) if run_id else None))
    if not known or "ledger/learnt" not in stats:  # an old crawl: what the rows and failure rows tell
        stats.setdefault("ledger/learnt", facts.rows + failures["by_kind"].get("release", 0))
        stats.setdefault("ledger/archived", facts.rows)
        stats.setdefault("ledger/failed", failures["by_kind"].get("release", 0))
        stats.setdefault("finish_reason", "finished" if facts.rows else "unknown")
    verdict = verdict or decide(stats)
    statuses = {k: v for k, v in _counts(prefixed(stats, "downloader/response_status_count/")).items()}
    warc = {"files": _int(stats, "warc/files"), "file_bytes": _int(stats, "warc/file_bytes"),
            "response_bytes": _int(stats, "warc/bytes"), "records": _int(stats, "warc/records"),
            "responses": _int(stats, "warc/responses"), "revisits": _int(stats, "warc/revisits")}
    if not statuses and not warc["records"]:
        scanned = warc_facts(paths.warc_dir)
        statuses = scanned.pop("statuses")
        warc.update(scanned)
    elapsed = float(stats.get("elapsed_time_seconds") or 0.0)
    pages = _int(stats, "response_received_count")
    archived = _int(stats, "ledger/archived")
    portal = stats.get("run/portal") or next(
        (row.get("portal") for row in iter_jsonl(paths.releases, start, end)), None)
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "run_id": str(run_id) if run_id else None,
        "portal": str(portal) if portal else None,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rebuilt_from_outputs": rebuilt,
        "stats_found": known,
        "verdict": verdict.as_dict(),
        "run": {"started_at": _iso(stats.get("start_time")), "finished_at": _iso(stats.get("finish_time")),
                "duration_seconds": round(elapsed, 3), "finish_reason": stats.get("finish_reason"),
                "start_urls": [u for u in str(stats.get("run/start_urls") or "").split(" ") if u]},
        "releases": {
            "learnt": _int(stats, "ledger/learnt"), "archived": archived, "failed": _int(stats, "ledger/failed"),
            "skipped": _int(stats, "ledger/skipped"), "unaccounted": _int(stats, "ledger/failed/unaccounted"),
            "failed_by_reason": _counts(prefixed(stats, "ledger/failed/")),
            "skipped_by_reason": _counts(prefixed(stats, "ledger/skipped/")),
            "rows_written": _int(stats, "releases/written") if known else facts.rows,
            "rows_unlisted": _int(stats, "ledger/rows_unlisted"),
            "rows_in_report": facts.rows,
        },
        "columns": _columns(stats, facts),
        "by_month": dict(sorted(facts.by_month.items())),
        "hits": {"rows_with_hits": sum(facts.hit_bins.values()), "max": facts.hits_max,
                 "histogram": facts.hits_histogram()},
        "field_coverage": {name: round(facts.coverage[name] / facts.rows, 4) if facts.rows else 0.0
                           for name in COVERAGE_FIELDS},
        "failures": failures,
        "offsite": {"links": _int(stats, "offsite/links"), "by_host": _counts(prefixed(stats, "offsite/host/"))},
        "http": {"requests": _int(stats, "downloader/request_count"), "responses": pages,
                 "statuses": statuses},
        "warc": warc,
        "attachments": {"archived": facts.attachments_archived, "skipped": sum(facts.attachments_skipped.values()),
                        "skipped_by_reason": dict(facts.attachments_skipped.most_common())},
        "rate": {"pages_per_second": round(pages / elapsed, 3) if elapsed > 0 else 0.0,
                 "releases_per_second": round(archived / elapsed, 3) if elapsed > 0 else 0.0},
        "recurring": _recurring(stats),
        "outputs": {"releases_offset_start": start, "releases_offset_end": end,
                    "failures_run_id": str(run_id) if run_id else None},
    }
    return report


def _recurring(stats: Mapping[str, Any]) -> dict[str, Any] | None:
    if "recurring/run_id" not in stats:
        return None
    keys = ("listed", "new", "changed", "unchanged", "removed", "skipped_old", "resume_skipped", "not_modified",
            "conditional_requests")
    found: dict[str, Any] = {key: _int(stats, f"recurring/{key}") for key in keys}
    found["run_number"] = _int(stats, "recurring/run_id")
    found["flags"] = [f for f in str(stats.get("recurring/flagged") or "").split(",") if f]
    return found

