"""One release capture -> one JSON line: the work ``crawler replay`` shares out to its worker processes (``--jobs N``).

`extract_row` is the whole per-release step (the live crawl's parse, the WARC's attachment fields, the
transforming pipelines, the row); `extract_line` reads the capture first when it is given as a reference into the
scan (``archives.replay_scan``) and encodes the row as its JSON line. Replay runs it in-process for one job and in
forked workers for more, so both give the same lines. A worker inherits the attachment index and the scan's
capture references (so a task names a capture by its number) and builds the pipelines once (`start`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scrapy.http import HtmlResponse

from archives.attachment_index import AttachmentIndex
from archives.jsonl import encode_line
from archives.replay_scan import CaptureRef, read_capture
from archives.warc_reader import Capture
from crawler.items import exported_row, skip_reason_of
from pipelines.chain import build_pipelines, run_pipelines
from spiders.hanweb import build_release_item

#: HTTP headers that describe the stored bytes, not the decoded body replay hands to the parser.
_FRAMING_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}

#: One release capture (read, or the number of its reference in the scan) and the column names known when replay
#: reached it (in file order).
Task = tuple[Capture | int, dict[str, str]]
#: A task's JSON line (None when a pipeline dropped the row or the capture was skipped), whether the capture's body
#: was cut at the limit, and whether it was skipped (its HTTP status is not 200).
Outcome = tuple[bytes | None, bool, bool]


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


def extract_line(task: Task, refs: Sequence[CaptureRef], portal: str, attachments: AttachmentIndex,
                 pipelines: list[Any]) -> Outcome:
    """The outcome of one task: the capture read (when given by number), its row extracted and encoded (a capture
    whose HTTP status is not 200 is skipped)."""
    item, column_names = task
    capture = read_capture(refs[item]) if isinstance(item, int) else item
    if capture.status != 200:
        return None, False, True
    row = extract_row(capture, portal, column_names, attachments, pipelines)
    return (None if row is None else encode_line(row)), capture.body_truncated, False


_STATE: dict[str, Any] = {}


def start(portal: str, attachments: AttachmentIndex, refs: Sequence[CaptureRef]) -> None:
    """Worker initializer: keep the portal, the (inherited) attachment index and references, build the pipelines."""
    _STATE.update(portal=portal, attachments=attachments, refs=refs, pipelines=build_pipelines())


def extract_batch(tasks: list[Task]) -> list[Outcome]:
    """Worker step: the outcomes of a batch of tasks, in order."""
    refs, portal, attachments, pipelines = _STATE["refs"], _STATE["portal"], _STATE["attachments"], _STATE["pipelines"]
    return [extract_line(task, refs, portal, attachments, pipelines) for task in tasks]
