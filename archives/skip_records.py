"""WARC ``metadata`` records saying why a linked file (an attachment) was not archived.

The archive itself says why, in finer words than the row's ``skip_reason`` (schema 2; a v1 row could not say it):
one ``metadata`` record per skipped URL, ``WARC-Target-URI`` the file's URL, an ``application/warc-fields`` block
such as::

    skipped: size-limit
    reason: declared Content-Length 1500000 exceeds ATTACHMENTS_MAX_SIZE 200000
    content-type: application/pdf
    declared-size: 1500000
    linked-from: http://www.example.gov.cn/art/2016/8/15/art_1229_1.html

The capture extension writes them when the spider signals ``crawler.signals.attachment_skipped``; replay reads
them back (:func:`skip_fields`) to fill the same row fields as the live crawl.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The field that marks a metadata record as a skip record; its value is the reason code.
SKIPPED = "skipped"


def skip_record_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a skip record is written with: those with a value (``fields`` must hold ``skipped``)."""
    return {key: value for key, value in fields.items() if value is not None}


def parse_warc_fields(block: bytes) -> dict[str, str]:
    """``name: value`` lines of an ``application/warc-fields`` block (first value of a repeated name wins)."""
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            fields.setdefault(name.strip().lower(), value.strip())
    return fields


def skip_fields(fields: Mapping[str, str]) -> dict[str, Any] | None:
    """The attachment fields a skip record gives (content type, declared size, and its code as ``skip_reason``:
    the reader maps the code to the row's vocabulary), or None if it is none."""
    if not fields.get(SKIPPED):
        return None
    declared = fields.get("declared-size", "")
    size = int(declared) if declared.isascii() and declared.isdigit() else None
    return {
        "content_type": fields.get("content-type") or None,
        "size": size if size is not None and size < 2**63 else None,  # a hostile Content-Length: unknown
        "payload_digest": None,
        "warc": None,
        "skip_reason": fields[SKIPPED],
    }
