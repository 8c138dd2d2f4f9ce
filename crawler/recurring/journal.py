"""The journal side of the crawl state: the releases and events JSONL applied to the SQLite checkpoint.

The releases JSONL and the events JSONL are the journal, the state is the checkpoint (see
``crawler.recurring.controller``): every checkpoint applies the journal from the offset the state recorded, in the
same transaction that moves that offset. Rows and events written before the state's schema 2 carry release ids of
schema 1 (``portal:articleid``): they are applied under today's id (`crawler.recurring.state.migrated_release_id`).
"""

from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path
from typing import Any

from crawler.recurring.fingerprint import fingerprint
from crawler.recurring.state import CrawlState, StateTransaction, iso, migrated_release_id, parse_iso, utcnow

logger = logging.getLogger(__name__)


def replay_journals(state: CrawlState, paths: tuple[Path, Path], captures: dict[str, dict[str, Any]],
                    tx: StateTransaction | None = None) -> int:
    """Apply the releases and the events JSONL (*paths*) from the offsets *state* recorded; return lines applied.

    *captures* holds what the run learned about its captures (validators, WARC-Date) by record id; a row applied
    takes its entry out.
    """
    if tx is None:
        with state.transaction() as own:
            return replay_journals(state, paths, captures, own)
    applied = 0
    rows, events = paths
    for path, apply in ((rows, partial(_apply_row, captures)), (events, _apply_event)):
        key = str(path.resolve())
        offset = state.journal_offset(key)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue
        if size < offset:
            logger.warning("%s is shorter than the state recorded (%d < %d): re-reading it", path, size, offset)
            offset = 0
        if size == offset:
            continue
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(size - offset)
        end = data.rfind(b"\n") + 1
        for line in data[:end].splitlines():
            try:
                apply(tx, json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("Skipping an unusable line of %s: %s", path, exc)
            applied += 1
        tx.set_journal_offset(key, offset + end)
    return applied


def _apply_row(captures: dict[str, dict[str, Any]], tx: StateTransaction, row: dict[str, Any]) -> None:
    rid, pointer = row.get("release_id"), row.get("warc")
    if not rid or not isinstance(pointer, dict):
        return
    rid = migrated_release_id(str(rid), str(row.get("url") or ""))  # a schema-1 row of the journal: today's id
    info = captures.pop(str(pointer.get("record_id")), {})
    full = {**pointer, "url": row.get("url"), "date": info.get("date")}
    # the record's own WARC-Date when this run captured it (the row's fetched_at keeps whole seconds only)
    tx.capture(rid, str(row.get("portal") or rid.split(":")[0]), str(row.get("url")),
               _stamp(info.get("date") or row.get("fetched_at")),
               fingerprint=fingerprint(row), hits=row.get("hits"), release_date=row.get("release_date"),
               pointer=full, validators=info)


def _apply_event(tx: StateTransaction, event: dict[str, Any]) -> None:
    rid = migrated_release_id(str(event["release_id"]), str(event.get("url") or ""))
    if event["event"] == "hits_changed":
        tx.hits(rid, event["new"].get("hits"))
    elif event["event"] == "release_removed":
        tx.removed(rid, event["detected_at"])


def _stamp(fetched_at: Any) -> str:
    """A row's ``fetched_at`` (second precision) as the state's microsecond form."""
    moment = parse_iso(str(fetched_at)) if fetched_at else None
    return iso(moment) if moment else utcnow()
