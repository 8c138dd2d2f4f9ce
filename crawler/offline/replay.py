"""Offline re-extraction: WARC records -> the same parse function and pipelines as the live crawl -> JSONL.

No network and no Scrapy engine: each release response record becomes an ``HtmlResponse`` that goes straight to
``spiders.hanweb.build_release_item`` and the transforming pipelines (``pipelines.chain``). One row per capture:
a WARC holding several runs gives several rows per release, told apart by ``fetched_at`` (the WARC-Date).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from scrapy.http import HtmlResponse

from archives.attachment_index import AttachmentIndex
from archives.jsonl import JsonlWriter
from archives.warc_reader import Capture, iter_captures
from crawler.items import exported_row, skip_reason_of
from pipelines.chain import build_pipelines, run_pipelines
from spiders.decoding import decode_html
from spiders.hanweb import build_release_item
from spiders.hanweb_lists import article_ids, column_id_of, column_name_of

#: HTTP headers that describe the stored bytes, not the decoded body replay hands to the parser.
_FRAMING_HEADERS = {"content-encoding", "content-length", "transfer-encoding"}
BATCH = 500


@dataclass
class ReplayReport:
    """What a replay did."""

    captures: int = 0
    rows: int = 0
    dropped: int = 0
    skipped_status: int = 0
    truncated: int = 0


def _is_wanted(url: str) -> bool:
    return article_ids(url) is not None or column_id_of(url) is not None


def response_from_capture(capture: Capture) -> HtmlResponse:
    """A Scrapy response carrying the decoded body and the headers that still describe it."""
    headers = [(k, v) for k, v in capture.headers if k.lower() not in _FRAMING_HEADERS]
    return HtmlResponse(url=capture.url, status=capture.status, headers=headers, body=capture.body)


def _learn_column_name(capture: Capture, names: dict[str, str]) -> None:
    column_id = column_id_of(capture.url)
    if not column_id or column_id in names:
        return
    decoded = decode_html(capture.body, capture.header("Content-Type"))
    try:
        name = column_name_of(lxml_html.document_fromstring(decoded.text))
    except (etree.ParserError, ValueError):
        return
    if name:
        names[column_id] = name


def replay_rows(paths: Iterable[str | os.PathLike[str]], portal: str, report: ReplayReport) -> Iterable[dict[str, Any]]:
    """Rows re-extracted from every release capture in ``paths``, in file order."""
    pipelines = build_pipelines()
    column_names: dict[str, str] = {}
    paths = list(paths)
    # attachment records follow their page's: index them first, noting where the wanted records are
    attachments = AttachmentIndex.build(paths, want=_is_wanted)
    for capture in iter_captures(paths, want=_is_wanted, positions=attachments.positions):
        if capture.status != 200:
            report.skipped_status += 1
            continue
        if article_ids(capture.url) is None:
            _learn_column_name(capture, column_names)
            continue
        report.captures += 1
        report.truncated += capture.body_truncated
        item = build_release_item(response_from_capture(capture), portal, column_names,
                                  fetched_at=capture.warc_date)
        item.warc = capture.pointer().row()
        attachments.fill(item.attachments)
        for attachment in item.attachments or ():  # a skip record's code in the row's words
            if attachment["skip_reason"] is not None:
                attachment["skip_reason"] = skip_reason_of(attachment["skip_reason"])
        processed = run_pipelines(item, pipelines)
        if processed is None:
            report.dropped += 1
            continue
        report.rows += 1
        yield exported_row(processed)


def replay_to_jsonl(paths: Iterable[str | os.PathLike[str]], out_path: str | os.PathLike[str],
                    portal: str = "demo") -> ReplayReport:
    """Re-extract every release capture in ``paths`` and write the rows to ``out_path`` (replacing it)."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    report = ReplayReport()
    writer = JsonlWriter(out)
    try:
        batch: list[dict[str, Any]] = []
        for row in replay_rows(paths, portal, report):
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_rows(batch)
                batch.clear()
        writer.write_rows(batch)
    finally:
        writer.close()
    return report
