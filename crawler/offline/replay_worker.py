"""One release capture -> one row: the work ``crawler replay`` shares out to its worker processes (``--jobs N``).

`extract_row` is the whole per-release step (the live crawl's parse, the WARC's attachment fields, the
transforming pipelines, the row); replay runs it in-process for one job and in forked workers for more, so both
give the same rows. A worker inherits the attachment index and builds the pipelines once (`start`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.http import HtmlResponse

from archives.attachment_index import AttachmentIndex
from archives.warc_reader import Capture
from crawler.items import exported_row, skip_reason_of
from pipelines.chain import build_pipelines, run_pipelines
from spiders.hanweb import build_release_item

#: HTTP headers that describe the stored bytes, not the decoded body replay hands to the parser.
_FRAMING_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}

#: One release capture and the column names known when replay reached it (in file order).
Task = tuple[Capture, dict[str, str]]


def response_from_capture(capture: Capture) -> HtmlResponse:
    """A Scrapy response carrying the decoded body and the headers that still describe it."""
    headers = [(k, v) for k, v in capture.headers if k.lower() not in _FRAMING_HEADERS]
    return HtmlResponse(url=capture.url, status=capture.status, headers=headers, body=capture.body)


def extract_row(capture: Capture, portal: str, column_names: Mapping[str, str], attachments: AttachmentIndex,
                pipelines: list[Any]) -> dict[str, Any] | None:
    """The row of one release capture, or None when a pipeline drops it."""
    item = build_release_item(response_from_capture(capture), portal, column_names, fetched_at=capture.warc_date)
    item.warc = capture.pointer().row()
    attachments.fill(item.attachments)
    for attachment in item.attachments or ():  # a skip record's code in the row's words
        if attachment["skip_reason"] is not None:
            attachment["skip_reason"] = skip_reason_of(attachment["skip_reason"])
    processed = run_pipelines(item, pipelines)
    return None if processed is None else exported_row(processed)


_STATE: dict[str, Any] = {}


def start(portal: str, attachments: AttachmentIndex) -> None:
    """Worker initializer: keep the portal and the (inherited) attachment index, build the pipelines."""
    _STATE.update(portal=portal, attachments=attachments, pipelines=build_pipelines())


def extract_batch(tasks: list[Task]) -> list[dict[str, Any] | None]:
    """Worker step: the rows of a batch of captures, in order (None for a dropped one)."""
    portal, attachments, pipelines = _STATE["portal"], _STATE["attachments"], _STATE["pipelines"]
    return [extract_row(capture, portal, names, attachments, pipelines) for capture, names in tasks]
