"""Offline re-extraction: WARC records -> the same parse function and pipelines as the live crawl -> JSONL.

No network and no Scrapy engine: each release response record becomes an ``HtmlResponse`` that goes straight to
``spiders.hanweb.build_release_item`` and the transforming pipelines (``pipelines.chain``). One row per capture:
a WARC holding several runs gives several rows per release, told apart by ``fetched_at`` (the WARC-Date).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from archives.attachment_index import AttachmentIndex
from archives.jsonl import JsonlWriter
from archives.warc_reader import Capture, iter_captures
from crawler.offline.replay_worker import Task, extract_batch, extract_row, response_from_capture, start
from pipelines.chain import build_pipelines
from spiders.decoding import decode_html
from spiders.hanweb_lists import article_ids, column_id_of, column_name_of

__all__ = ["ReplayReport", "default_jobs", "replay_rows", "replay_to_jsonl", "response_from_capture"]

BATCH = 500
#: Captures handed to a worker at a time, and batches in flight per worker (bounds memory, keeps workers busy).
TASK_BATCH = 16
IN_FLIGHT_PER_JOB = 4


@dataclass
class ReplayReport:
    """What a replay did."""

    captures: int = 0
    rows: int = 0
    dropped: int = 0
    skipped_status: int = 0
    truncated: int = 0


def default_jobs() -> int:
    """Worker processes by default: the cores this process may run on."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _is_wanted(url: str) -> bool:
    return article_ids(url) is not None or column_id_of(url) is not None


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


def _tasks(paths: list[str | os.PathLike[str]], attachments: AttachmentIndex, report: ReplayReport) -> Iterator[Task]:
    """The release captures in file order, each with the column names learnt before it (column pages are read
    here, in order, so every job count sees the same names at the same release)."""
    column_names: dict[str, str] = {}
    for capture in iter_captures(paths, want=_is_wanted, positions=attachments.positions):
        if capture.status != 200:
            report.skipped_status += 1
            continue
        if article_ids(capture.url) is None:
            _learn_column_name(capture, column_names)
            continue
        report.captures += 1
        report.truncated += capture.body_truncated
        ids = article_ids(capture.url)
        column_id = ids[0] if ids else None
        known = {column_id: column_names[column_id]} if column_id in column_names else {}
        yield capture, known


def _batches(tasks: Iterator[Task]) -> Iterator[list[Task]]:
    batch: list[Task] = []
    for task in tasks:
        batch.append(task)
        if len(batch) >= TASK_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _outcomes(paths: list[str | os.PathLike[str]], portal: str, report: ReplayReport,
              jobs: int) -> Iterator[dict[str, Any] | None]:
    # attachment records follow their page's: index them first, noting where the wanted records are
    attachments = AttachmentIndex.build(paths, want=_is_wanted)
    tasks = _tasks(paths, attachments, report)
    if jobs <= 1:
        pipelines = build_pipelines()
        for capture, names in tasks:
            yield extract_row(capture, portal, names, attachments, pipelines)
        return
    # forked workers inherit the index; batches go out in order and their rows come back in order
    with multiprocessing.get_context("fork").Pool(jobs, initializer=start, initargs=(portal, attachments)) as pool:
        pending: deque[Any] = deque()
        for batch in _batches(tasks):
            pending.append(pool.apply_async(extract_batch, (batch,)))
            if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def replay_rows(paths: Iterable[str | os.PathLike[str]], portal: str, report: ReplayReport,
                jobs: int = 1) -> Iterable[dict[str, Any]]:
    """Rows re-extracted from every release capture in ``paths``, in file order (the same for any ``jobs``)."""
    for row in _outcomes(list(paths), portal, report, jobs):
        if row is None:
            report.dropped += 1
            continue
        report.rows += 1
        yield row


def replay_to_jsonl(paths: Iterable[str | os.PathLike[str]], out_path: str | os.PathLike[str],
                    portal: str = "demo", jobs: int = 1) -> ReplayReport:
    """Re-extract every release capture in ``paths`` and write the rows to ``out_path`` (replacing it), with
    ``jobs`` worker processes (1: in this process)."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    report = ReplayReport()
    writer = JsonlWriter(out)
    try:
        batch: list[dict[str, Any]] = []
        for row in replay_rows(paths, portal, report, jobs):
            batch.append(row)
            if len(batch) >= BATCH:
                writer.write_rows(batch)
                batch.clear()
        writer.write_rows(batch)
    finally:
        writer.close()
    return report
