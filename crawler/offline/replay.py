"""Offline re-extraction: WARC records -> the same parse function and pipelines as the live crawl -> JSONL.

No network and no Scrapy engine: each release response record becomes an ``HtmlResponse`` that goes straight to
``spiders.hanweb.build_release_item`` and the transforming pipelines (``pipelines.chain``). One row per capture:
a WARC holding several runs gives several rows per release, told apart by ``fetched_at`` (the WARC-Date).

Reading: one FastWARC pass (``archives.replay_scan.scan``) gives the attachment index and a reference to every
release and column capture; the process that extracts a release reads its capture (one gzip member) and its HTTP
headers (the scan leaves those of release pages alone; a release capture that is not a 200 is counted as skipped
there), so with ``--jobs N`` the reading process only scans, hands out capture numbers and writes the lines the
workers encoded.
WARC files FastWARC cannot frame as warcio does are read by warcio (``iter_captures``), as before.
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

from archives import fast_reader
from archives.attachment_index import AttachmentIndex
from archives.fast_reader import NotFramed
from archives.jsonl import JsonlWriter
from archives.replay_scan import CaptureRef, read_capture, scan
from archives.warc_reader import WARC_READ_ERRORS, Capture, UnreadableWarc, iter_captures
from crawler.offline.replay_worker import Outcome, Task, extract_batch, extract_line, response_from_capture, start
from pipelines.chain import build_pipelines
from pipelines.html_parser import HTML_PARSER
from spiders.decoding import decode_html
from spiders.hanweb_lists import article_ids, column_id_of, column_name_of

__all__ = ["ReplayReport", "default_jobs", "replay_lines", "replay_to_jsonl", "response_from_capture"]

BATCH = 500
#: Captures handed to a worker at a time, and batches in flight per worker (bounds memory, keeps workers busy).
#: 64 rather than 16: the reading process's CPU a release 0.15 -> 0.12 ms, two jobs' time -3% on the bench crawl.
TASK_BATCH = 64
IN_FLIGHT_PER_JOB = 4
#: Captures handed out at a time near the end, so the workers finish together: a worker left alone with its last
#: batch of `TASK_BATCH` releases holds the replay for up to 64 extractions (2% of two jobs' time on the bench).
TAIL_BATCH = 8


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


def _is_release(url: str) -> bool:
    return article_ids(url) is not None


def _learn_column_name(column_id: str, capture: Capture, names: dict[str, str]) -> None:
    decoded = decode_html(capture.body, capture.header("Content-Type"))
    try:
        name = column_name_of(lxml_html.document_fromstring(decoded.text, parser=HTML_PARSER))
    except (etree.ParserError, ValueError):
        return
    if name:
        names[column_id] = name


def _plan(paths: list[str | os.PathLike[str]]) -> tuple[AttachmentIndex, list[CaptureRef], Iterable[Capture | int]]:
    """The attachment index and the wanted captures in file order: numbers into the references of FastWARC's
    scan, or (FastWARC missing, or a file it cannot frame as warcio does) captures read by warcio."""
    if fast_reader.available():
        try:
            index, refs = scan(paths, _is_wanted, headers_later=_is_release)
        except (NotFramed, OSError, ValueError):
            pass  # warcio reads it below (and raises what it raises on a broken file)
        else:
            return index, refs, range(len(refs))
    # attachment records follow their page's: index them first, noting where the wanted records are
    index = AttachmentIndex.build(paths, want=_is_wanted)
    return index, [], iter_captures(paths, want=_is_wanted, positions=index.positions)


def _tasks(items: Iterable[Capture | int], refs: list[CaptureRef], report: ReplayReport) -> Iterator[Task]:
    """The release captures in file order, each with the column names learnt before it (column pages are read
    here, in order, so every job count sees the same names at the same release)."""
    column_names: dict[str, str] = {}
    for item in items:
        found = refs[item] if isinstance(item, int) else item
        if found.status is not None and found.status != 200:  # None: a release's, read where it is extracted
            report.skipped_status += 1
            continue
        ids = article_ids(found.url)
        if ids is None:
            column_id = column_id_of(found.url)
            if column_id and column_id not in column_names:
                capture = read_capture(found) if isinstance(found, CaptureRef) else found
                _learn_column_name(column_id, capture, column_names)
            continue
        column_id = ids[0] if ids else None
        known = {column_id: column_names[column_id]} if column_id in column_names else {}
        yield item, known


def _batches(tasks: Iterator[Task], jobs: int, captures: int | None = None) -> Iterator[list[Task]]:
    """The tasks in batches of `TASK_BATCH`, and of `TAIL_BATCH` once at most ``2 * jobs`` full batches can be
    left (*captures*: how many capture numbers the scan gave; None: not known, full batches to the end)."""
    tail = 2 * jobs * TASK_BATCH
    batch: list[Task] = []
    for task in tasks:
        batch.append(task)
        item = task[0]
        near_end = captures is not None and isinstance(item, int) and captures - item <= tail
        if len(batch) >= (TAIL_BATCH if near_end else TASK_BATCH):
            yield batch
            batch = []
    if batch:
        yield batch


def _outcomes(paths: list[str | os.PathLike[str]], portal: str, report: ReplayReport, jobs: int) -> Iterator[Outcome]:
    index, refs, items = _plan(paths)
    tasks = _tasks(items, refs, report)
    if jobs <= 1:
        pipelines = build_pipelines()
        for task in tasks:
            yield extract_line(task, refs, portal, index, pipelines)
        return
    # forked workers inherit the index and the references; batches go out in order and come back in order.
    # The pipelines are built here once first: each worker then inherits their imports and compiled schemas and
    # builds its own in a millisecond instead of 60-90 ms after the scan, on the replay's critical path.
    build_pipelines()
    with multiprocessing.get_context("fork").Pool(jobs, initializer=start, initargs=(portal, index, refs)) as pool:
        pending: deque[Any] = deque()
        for batch in _batches(tasks, jobs, len(refs) if refs else None):
            pending.append(pool.apply_async(extract_batch, (batch,)))
            if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()


def replay_lines(paths: Iterable[str | os.PathLike[str]], portal: str, report: ReplayReport,
                 jobs: int = 1) -> Iterator[bytes]:
    """The JSON lines of the rows re-extracted from every release capture in ``paths``, in file order (the same
    for any ``jobs``)."""
    for line, truncated, skipped in _outcomes(list(paths), portal, report, jobs):
        if skipped:
            report.skipped_status += 1
            continue
        report.captures += 1
        report.truncated += truncated
        if line is None:
            report.dropped += 1
            continue
        report.rows += 1
        yield line


def replay_to_jsonl(paths: Iterable[str | os.PathLike[str]], out_path: str | os.PathLike[str],
                    portal: str = "demo", jobs: int = 1) -> ReplayReport:
    """Re-extract every release capture in ``paths`` and write the rows to ``out_path``, with ``jobs`` worker
    processes (1: in this process).

    The rows go to ``OUT.partial``, which replaces ``out_path`` once every capture is read: a replay that stops
    (a file that is not WARC records raises :class:`~archives.warc_reader.UnreadableWarc`) leaves ``out_path`` as
    it was.
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    report = ReplayReport()
    writer = JsonlWriter(partial)
    done = False
    try:
        batch: list[bytes] = []
        for line in replay_lines(paths, portal, report, jobs):
            batch.append(line)
            if len(batch) >= BATCH:
                writer.write_lines(batch)
                batch.clear()
        writer.write_lines(batch)
        done = True
    except WARC_READ_ERRORS as exc:
        found = " ".join(str(exc).split())
        raise UnreadableWarc(f"{type(exc).__name__}: {found[:120]}") from exc
    finally:
        writer.close()
        fast_reader.close_files()
        if done:
            os.replace(partial, out)
        else:
            partial.unlink(missing_ok=True)
    return report
