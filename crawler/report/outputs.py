"""What the report reads from a crawl's output directory: the run's stats (the JSON dump in ``crawl.log``), this
run's release rows (the byte range of ``releases.jsonl`` the run wrote), its failure rows (by ``run_id``), and,
for crawls older than the JSON dump, what the WARC files say (HTTP statuses, bytes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: The line before the JSON stats dump in crawl.log (crawler.report.stats_dump).
STATS_MARK = "Dumping Scrapy stats (JSON):"
_OLD_MARK = "Dumping Scrapy stats:"
_OLD_LINE = re.compile(r"""^\s*[{ ]'([^']+)': (.+?),?$""")


def read_stats(log_path: Path) -> dict[str, Any] | None:
    """The last run's stats from a crawl log: the JSON dump, else (older crawls) the repr dump's plain values."""
    if not log_path.is_file():
        return None
    text = log_path.read_text("utf-8", "replace")
    at = text.rfind(STATS_MARK)
    if at >= 0:
        start = text.find("{", at)
        try:
            value, _end = json.JSONDecoder().raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    at = text.rfind(_OLD_MARK)
    if at < 0:
        return None
    stats: dict[str, Any] = {}
    for line in text[at + len(_OLD_MARK):].splitlines()[1:]:
        match = _OLD_LINE.match(line)
        if match is None:
            if stats:
                break
            continue
        raw = match.group(2).rstrip("}").rstrip(",")
        try:
            stats[match.group(1)] = json.loads(raw.replace("'", '"'))
        except ValueError:
            stats[match.group(1)] = raw
    return stats or None


def iter_jsonl(path: Path, start: int = 0, end: int | None = None) -> Iterator[dict[str, Any]]:
    """The objects of a JSON Lines file between two byte offsets (unreadable lines are skipped)."""
    if not path.is_file():
        return
    with path.open("rb") as handle:
        handle.seek(start)
        position = start
        for line in handle:
            position += len(line)
            if end is not None and position > end:
                return
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                yield row


def failure_rows(path: Path, run_id: str | None) -> Iterator[dict[str, Any]]:
    """The failure rows of one run (all rows of a file written before failure rows carried a run id)."""
    for row in iter_jsonl(path):
        if run_id is None or row.get("run_id") in (run_id, None):
            yield row


def warc_facts(warc_dir: Path) -> dict[str, Any]:
    """HTTP statuses, response and attachment counts and bytes, from the WARC files themselves (older crawls)."""
    from warcio.archiveiterator import ArchiveIterator

    statuses: dict[str, int] = {}
    responses = revisits = 0
    size = 0
    files = sorted(warc_dir.glob("*.warc.gz")) if warc_dir.is_dir() else []
    for path in files:
        size += path.stat().st_size
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "revisit":
                    revisits += 1
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                responses += 1
                status = str(record.http_headers.get_statuscode())
                statuses[status] = statuses.get(status, 0) + 1
    return {"files": len(files), "file_bytes": size, "responses": responses, "revisits": revisits,
            "statuses": statuses}
