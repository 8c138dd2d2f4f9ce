"""Content fingerprint of an extracted release: what the release *says*, without volatile fields.

Hits, the fetch (``fetched_at``, ``warc``), the column's display name, the cleaned HTML and the charset decision
are left out. The fingerprint carries the extractor version (``hanweb-extract/2.0.0|sha256:…``), so two
fingerprints from different extractor versions are never compared as content: an extractor upgrade is not a
change of the release (`same_extractor`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

#: The row fields the hash covers (attachments are added by url and name).
FINGERPRINT_FIELDS = ("release_id", "title", "release_date", "release_datetime", "release_time_precision", "source",
                      "index_no", "doc_no", "body_text", "language")


def fingerprint(row: Mapping[str, Any]) -> str:
    """``{extractor_version}|sha256:<hex>`` over the canonical JSON of the content fields."""
    content: dict[str, Any] = {key: row.get(key) for key in FINGERPRINT_FIELDS}
    content["attachments"] = sorted([str(a.get("url")), str(a.get("name"))] for a in (row.get("attachments") or []))
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return f"{row.get('extractor_version') or 'unknown'}|sha256:{hashlib.sha256(data).hexdigest()}"


def same_extractor(a: str | None, b: str | None) -> bool:
    """True when both fingerprints were made by the same extractor version."""
    return bool(a and b) and a.rsplit("|", 1)[0] == b.rsplit("|", 1)[0]  # type: ignore[union-attr]
