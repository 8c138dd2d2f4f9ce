"""Events of recurring crawls (hits changed, release changed, release removed) as JSON Lines.

Schema: ``crawler/schemas/events-v1.schema.json``. Each event has a deterministic ``event_id`` (a hash of what
it says), so a consumer can drop the rare duplicate that a crash between writing an event and checkpointing the
state can cause (at-least-once delivery, see docs/recurring.md).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

EVENTS_SCHEMA_VERSION = 1
EVENT_KINDS = ("hits_changed", "release_changed", "release_removed")
SCHEMA_PATH = Path(__file__).parent / "schemas" / "events-v1.schema.json"


def make_event(kind: str, *, portal: str, release_id: str, url: str, run_id: int, detected_at: str,
               old: dict[str, Any], new: dict[str, Any], warc: dict[str, Any] | None) -> dict[str, Any]:
    """One event row, keys in schema order."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    identity = json.dumps([kind, release_id, old, new], sort_keys=True, ensure_ascii=False, default=str)
    return {
        "schema_version": EVENTS_SCHEMA_VERSION,
        "event_id": "sha256:" + hashlib.sha256(identity.encode("utf-8")).hexdigest(),
        "event": kind,
        "portal": portal,
        "release_id": release_id,
        "url": url,
        "run_id": run_id,
        "detected_at": detected_at,
        "old": old,
        "new": new,
        "warc": warc,
    }


@cache
def events_schema() -> dict[str, Any]:
    """The events JSON Schema (2020-12)."""
    return dict(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def validate_event(event: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when *event* does not match the schema."""
    import jsonschema

    jsonschema.validate(event, events_schema(), format_checker=jsonschema.FormatChecker())
