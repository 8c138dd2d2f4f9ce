"""WARC ``metadata`` records saying why a linked file (an attachment) was not archived.

The release row of schema v1 cannot carry a reason (its attachment object admits no further keys), so the archive
itself says it: one ``metadata`` record per skipped URL, ``WARC-Target-URI`` the file's URL, an
``application/warc-fields`` block such as::

    skipped: size-limit
    reason: declared Content-Length 1500000 exceeds ATTACHMENTS_MAX_SIZE 200000
    content-type: application/pdf
    declared-size: 1500000
    linked-from: http://www.example.gov.cn/art/2016/8/15/art_1229_1.html

Replay reads these back (:func:`skip_fields`) to fill the same row fields as the live crawl.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from archives.components.capture import get_capture
from archives.warc_writer import WarcWriteError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: The field that marks a metadata record as a skip record; its value is the reason code.
SKIPPED = "skipped"


def write_skip_record(crawler: Crawler, url: str, fields: Mapping[str, Any]) -> bool:
    """Write a skip record for *url* (``fields`` must hold ``skipped``); False when WARC capture is off or failed."""
    capture = get_capture(crawler)
    if capture is None or capture.writer is None or capture.failed:
        return False
    try:
        capture.writer.write_metadata(url, {key: value for key, value in fields.items() if value is not None})
    except WarcWriteError as exc:
        logger.error("Could not write the skip record of %s: %s", url, exc)
        assert crawler.stats is not None
        crawler.stats.inc_value("warc/skip_record_failed")
        return False
    return True


def parse_warc_fields(block: bytes) -> dict[str, str]:
    """``name: value`` lines of an ``application/warc-fields`` block (first value of a repeated name wins)."""
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            fields.setdefault(name.strip().lower(), value.strip())
    return fields


def skip_fields(fields: Mapping[str, str]) -> dict[str, Any] | None:
    """The attachment fields a skip record gives (content type and declared size), or None if it is none."""
    if not fields.get(SKIPPED):
        return None
    declared = fields.get("declared-size", "")
    return {
        "content_type": fields.get("content-type") or None,
        "size": int(declared) if declared.isdigit() else None,
        "payload_digest": None,
        "warc": None,
    }
