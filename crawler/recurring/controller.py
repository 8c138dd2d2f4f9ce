"""Recurring crawls: the run's controller (a Scrapy extension) that the middleware and the pipeline consult.

One policy (docs/recurring.md): list pages are fetched every run; unknown releases are fetched; known releases
younger than the refresh window are re-requested conditionally (a 304 or an identical payload becomes a WARC
revisit of the archived original), older ones are not requested unless RECURRING_REFRESH; releases that
vanished from every list are re-requested once the crawl is idle and recorded as removed on 404/410.

Durability: the releases JSONL and the events JSONL are the journal, the SQLite state is the checkpoint.
Rows and events are written only once their WARC records are fsynced; every flush (and every start) applies
the journal from the offset the state has recorded, in the same transaction that moves that offset. So after
a kill -9 the next run first brings the state up to what was archived, then skips what the interrupted run
already archived.

The controller's parts live beside it: its settings and the RECURRING_ENABLED gate (``config``), the journal applied
to the state (``journal``), the drop flags (``flags``); the components that consult it are ``conditional`` (downloader
middleware), ``skip`` (spider middleware) and ``pipeline`` (item pipeline), which find it with `get_recurring`.
"""

from __future__ import annotations

import logging
import shutil
import socket
import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.defer import deferred_from_coro

from archives.components.capture import get_capture
from archives.jsonl import JsonlWriter
from archives.pointer import WarcPointer
from archives.warc_writer import OPEN_SUFFIX
from crawler import meta, wiring
from crawler.recurring.config import CHECK_META_KEY, COVERAGE_FIELDS, RecurringConfig, require_enabled
from crawler.recurring.events import make_event
from crawler.recurring.fencing import Fenced, install_fence, is_fence_abort
from crawler.recurring.flags import count_drop_flags, coverage_drop_flags
from crawler.recurring.journal import replay_journals
from crawler.recurring.locks import LockHeld, PortalLock
from crawler.recurring.recover import recover_dir
from crawler.recurring.spilled_dict import SpilledDict
from crawler.recurring.state import CrawlState, StateError, StateTransaction, utcnow
from crawler.signals import release_gone
from spiders.hanweb_lists import article_ids, release_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)


def get_recurring(crawler: Crawler) -> RecurringExtension | None:
    """The crawler's recurring controller, if enabled."""
    return wiring.extension(crawler, RecurringExtension)


def active_recurring(crawler: Crawler) -> RecurringExtension | None:
    """The recurring controller while it runs (holds the portal lock and has its state), else None."""
    ext = get_recurring(crawler)
    return ext if ext is not None and ext.active and ext.state is not None else None


class RecurringExtension:
    """Lock, state, run record, journal checkpoints, removal checks and drop flags of one crawl run."""

    def __init__(self, crawler: Crawler, config: RecurringConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.portal = ""
        self.state: CrawlState | None = None
        self.lock: PortalLock | None = None
        self.active = False  # the run holds the lock and has a state
        self.locked_out = False
        self.revisits_allowed = True  # False when the state was missing or unreadable at start
        self.run_id = 0
        self.resume_since: str | None = None
        self.prev_run: Any = None
        # release_id -> url, listed in this run; release_id -> (fingerprint, hits) extracted in this run. Both
        # move to TEMP tables of the state's connection once it is open (a few hundred bytes a release otherwise).
        self.seen: dict[str, str] | SpilledDict = {}
        self.current: dict[str, tuple[str, int | None]] | SpilledDict = {}
        self.captures: dict[str, dict[str, Any]] = {}  # record_id -> validators, date, revisit profile
        self.pending_seen: list[tuple[str, str]] = []
        self.pending_recaptures: list[tuple[str, WarcPointer, bool]] = []
        self.pending_events: list[dict[str, Any]] = []
        self.coverage: Counter[str] = Counter()
        self.flags: list[str] = []
        self.listed_at_idle: int | None = None
        self.idle_checked = False
        self._warc_files: dict[str, bool] = {}
        self._events: JsonlWriter | None = None
        self._loop: LoopingCall | None = None
        self._prepared: tuple[int, dict[str, Any]] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        require_enabled(crawler.settings)
        ext = cls(crawler, RecurringConfig.from_settings(crawler.settings))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.release_gone, signal=release_gone)
        return ext

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    # -- opening -----------------------------------------------------------------------------------------

    def spider_opened(self) -> None:
        """Take the portal lock, recover abandoned files, open the state, apply the journal, start the run."""
        spider = self.crawler.spider
        portal = getattr(spider, "portal", None) or wiring.get(self.crawler.settings, "PORTAL_ID")
        self.portal = str(portal or "default")
        self.lock = PortalLock(self.config.lock_dir / f"{self.portal}.lock")
        try:
            self.lock.acquire()
        except LockHeld as exc:
            self.locked_out = True
            self.stats.set_value("recurring/locked_out", 1)
            logger.error("Portal %r is already being crawled: %s; this run stops without fetching", self.portal,
                         exc)
            raise CloseSpider("portal_locked") from exc
        if self.lock.took_over_from:
            logger.warning("Took over the stale lock of portal %r (left by %s)", self.portal,
                           self.lock.took_over_from)
        if self.config.recover_at_start and self.config.warc_dir.is_dir():
            report = recover_dir(self.config.warc_dir, jsonl=False)
            if report.recovered:
                self.stats.set_value("recurring/recovered_warcs", len(report.recovered))
            for error in report.errors:
                logger.error("Recovery at start: %s (left as it is; see crawler recover)", error)
        self.state = self._open_state()
        self.seen = SpilledDict(self.state.db, "run_seen")
        self.current = SpilledDict(self.state.db, "run_current")
        self._fence()  # after the TEMP tables: their PRAGMA temp_store would drop the fence's TEMP triggers
        self.replay_journals()
        last = self.state.last_run(self.portal)
        expected = self.config.expect_last_run
        if expected >= 0 and (last["run_id"] if last else 0) != expected:
            self.locked_out = True
            self.stats.set_value("recurring/not_due", 1)
            logger.info("Portal %r was crawled by another run since this one was scheduled; not crawling again",
                        self.portal)
            raise CloseSpider("not_due")
        self.run_id = self.state.start_run(self.portal, run_uid=wiring.run_id(self.crawler))
        self.state.mark_crashed(self.portal, self.run_id)
        self.resume_since = self.state.crash_chain_start(self.portal, self.run_id)
        if self.resume_since:
            resumed = [r for r in self.state.runs(self.portal) if r["run_id"] < self.run_id
                       and (r["started_at"] or "") >= self.resume_since]
            self.stats.set_value("recurring/resumed_runs", len(resumed))
            logger.warning("Resuming after %d crashed or interrupted run(s) of %r: releases archived since %s are "
                           "skipped", len(resumed), self.portal, self.resume_since)
        self.prev_run = self.state.last_finished_run(self.portal, self.run_id)
        self._events = JsonlWriter(self.config.events_path)
        self.active = True
        self.stats.set_value("recurring/run_id", self.run_id)
        self._start_timer()

    def _open_state(self) -> CrawlState:
        path = self.config.state_path
        existed = path.exists()
        try:
            state = CrawlState(path)
        except StateError as exc:
            aside = path.with_name(f"{path.name}.unreadable-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            for suffix in ("", "-wal", "-shm"):
                src = Path(str(path) + suffix)
                if src.exists():
                    shutil.move(src, Path(str(aside) + suffix))
            logger.warning("%s; moved aside to %s. This run writes full records (no revisits) and rebuilds the "
                           "state from the releases JSONL", exc, aside)
            self.revisits_allowed = False
            self.stats.set_value("recurring/state_unreadable", 1)
            return CrawlState(path)
        if not existed and any(self.config.warc_dir.glob("*.warc.gz")):
            logger.warning("Crawl state %s is missing although %s holds WARC files: this run writes full records "
                           "(no revisits) and rebuilds the state from the releases JSONL", path,
                           self.config.warc_dir)
            self.revisits_allowed = False
            self.stats.set_value("recurring/state_missing", 1)
        return state

    def _start_timer(self) -> None:
        from twisted.internet import reactor
        from twisted.internet.task import LoopingCall

        if reactor.running:
            self._loop = LoopingCall(self._timer_flush)
            self._loop.start(max(self.config.flush_interval, 0.05), now=False)

    def _fence(self) -> None:
        """A queue run: record its lease token in the state, refuse older ones, fence this connection's writes."""
        token = self.config.fencing_token
        if token < 0 or self.state is None:
            return
        try:
            holder = str(wiring.get(self.crawler.settings, "WARC_CRAWLHOST") or socket.gethostname())
            install_fence(self.state.db, self.portal, token, holder)
        except Fenced as exc:
            self.locked_out = True
            self.stats.set_value("recurring/fenced", 1)
            logger.error("%s; this run stops without fetching", exc)
            raise CloseSpider("fenced") from exc

    def _timer_flush(self) -> None:
        try:
            self.flush()
        except Exception as exc:
            if not is_fence_abort(exc):
                logger.exception("Crawl state checkpoint failed")
                if isinstance(exc, OSError | sqlite3.Error):  # a full disk: the run is failed
                    if self._loop is not None and self._loop.running:
                        self._loop.stop()
                    wiring.output_failed(self.crawler, "state", exc, "state_write_failed")
                return
            # a newer lease holder recorded its token: write nothing more, stop (crawler/recurring/fencing.py)
            logger.error("Stopping: %s", exc)
            self.active = False
            self.stats.set_value("recurring/fenced", 1)
            engine = self.crawler.engine
            if engine is not None and engine.spider is not None:
                deferred_from_coro(engine.close_spider_async(reason="fenced"))

    # -- journal ------------------------------------------------------------------------------------------

    def replay_journals(self, tx: StateTransaction | None = None) -> int:
        """Apply the releases and events JSONL from the offsets the state recorded; return lines applied."""
        assert self.state is not None
        return replay_journals(self.state, (self.config.jsonl_path, self.config.events_path), self.captures, tx)

    def flush(self) -> None:
        """Checkpoint: fsync the WARC, write the events it covers, then apply everything in one transaction."""
        if not self.active or self.state is None:
            return
        capture = get_capture(self.crawler)
        if (self.pending_events or self.pending_recaptures) and capture is not None and not capture.sync():
            return  # the WARC could not be synced: keep everything pending
        if self.pending_events and self._events is not None:
            self._events.write_rows(self.pending_events)
            self.stats.inc_value("recurring/events_written", len(self.pending_events))
            self.pending_events = []
        self._spill()
        seen, self.pending_seen = self.pending_seen, []
        recaptures, self.pending_recaptures = self.pending_recaptures, []
        with self.state.transaction() as tx:
            tx.seen(seen)
            for rid, pointer, revisit in recaptures:
                info = self.captures.pop(pointer.record_id, {})
                tx.recapture(rid, utcnow(), replace(pointer, date=info.get("date")).as_dict(), revisit=revisit,
                             validators=info)
            self.replay_journals(tx)

    def _spill(self) -> None:
        """Move the run's latest seen and extracted releases to their tables (bounded memory)."""
        for table in (self.seen, self.current):
            if isinstance(table, SpilledDict):
                table.spill()

    # -- what the middleware and the pipeline ask -----------------------------------------------------------

    def release_id_for(self, url: str) -> str | None:
        return f"{self.portal}:{release_key(url)}" if article_ids(url) else None

    def mark_seen(self, release_id: str, url: str) -> None:
        if release_id not in self.seen:
            self.seen[release_id] = url
            self.pending_seen.append((release_id, utcnow()))

    def warc_exists(self, filename: str | None) -> bool:
        """True when the WARC file holding an original is in the archive (closed, or open in this run)."""
        if not filename:
            return False
        if filename not in self._warc_files:
            directory = self.config.warc_dir
            self._warc_files[filename] = (directory / filename).is_file() or (
                directory / (filename + OPEN_SUFFIX)).is_file()
        return self._warc_files[filename]

    def is_old(self, row: Any) -> bool:
        """Older than the refresh window, by the release date the page printed (else by first seen)."""
        text = row["release_date"] or (row["first_seen"] or "")[:10]
        try:
            published = date.fromisoformat(text)
        except ValueError:
            return False
        return (datetime.now(UTC).date() - published).days > self.config.refresh_window_days

    def remember_capture(self, record_id: str, info: dict[str, Any]) -> None:
        self.captures[record_id] = info

    def queue_recapture(self, release_id: str, pointer: WarcPointer, revisit: bool) -> None:
        self.pending_recaptures.append((release_id, pointer, revisit))

    def queue_event(self, kind: str, release_id: str, url: str, old: dict[str, Any], new: dict[str, Any],
                    pointer: WarcPointer | None) -> None:
        warc = None
        if pointer:
            warc = pointer.event_row(self.captures.get(pointer.record_id, {}).get("date"))
        self.pending_events.append(make_event(kind, portal=self.portal, release_id=release_id, url=url,
                                              run_id=self.run_id, detected_at=utcnow(), old=old, new=new,
                                              warc=warc))
        self.stats.inc_value(f"recurring/events/{kind}")

    def count_coverage(self, row: dict[str, Any]) -> None:
        self.coverage["items"] += 1
        for name in COVERAGE_FIELDS:
            if row.get(name) not in (None, ""):
                self.coverage[name] += 1

    # -- idle: removals and the drop flag ---------------------------------------------------------------------

    def spider_idle(self) -> None:
        """Once, when everything listed is done: flag a sharp drop, else re-request vanished releases."""
        if not self.active or self.idle_checked or self.state is None:
            return
        self.idle_checked = True
        self.listed_at_idle = len(self.seen)
        self._check_count_drop(self.listed_at_idle)
        if not self.config.removal_checks:
            return
        if "release_count_drop" in self.flags:
            logger.warning("Not checking vanished releases: the release count dropped sharply (a template "
                           "change or a block would make every release look removed)")
            return
        vanished, count = self._vanished(self.config.removal_check_max)
        if not count:
            return
        self.stats.set_value("recurring/vanished", count)
        if count > self.config.removal_check_max:
            logger.warning("%d releases vanished from the lists; re-requesting the first %d "
                           "(RECURRING_REMOVAL_CHECK_MAX)", count, self.config.removal_check_max)
        spider = self.crawler.spider
        callback = getattr(spider, "parse_release", None)
        engine = self.crawler.engine
        assert engine is not None
        for rid, url in vanished:
            engine.crawl(scrapy.Request(url, callback=callback, dont_filter=True, priority=20,
                                        meta={CHECK_META_KEY: "removal", "release_id": rid}))
        raise DontCloseSpider

    def _vanished(self, limit: int) -> tuple[list[tuple[str, str]], int]:
        """The first ``limit`` present releases of the portal this run did not list, and how many there are."""
        assert self.state is not None
        if isinstance(self.seen, SpilledDict):
            self.seen.spill()
            rows = self.state.present_releases_except(self.portal, self.seen.keys_sql())
        else:
            rows = (row for row in self.state.present_releases(self.portal) if row[0] not in self.seen)
        first: list[tuple[str, str]] = []
        count = 0
        for row in rows:
            if count < limit:
                first.append(row)
            count += 1
        return first, count

    def record_removed(self, release_id: str, url: str, status: int, pointer: WarcPointer | None,
                       reason: str | None = None) -> None:
        new: dict[str, Any] = {"status": status}
        if reason:
            new["reason"] = reason
        self.queue_event("release_removed", release_id, url, {"status": 200}, new, pointer)
        self.stats.inc_value("recurring/removed")

    def release_gone(self, request: Any, response: Any, reason: str, detail: str) -> bool:
        """A known release answered with the CMS's not-found page or a redirect home (``release_gone``): a removal
        (True), never a change. An unknown release is left to the failure log (False)."""
        if not self.active or self.state is None:
            return False
        rid = self.release_id_for(response.url) or self.release_id_for(request.url)
        row = self.state.release(rid) if rid else None
        if rid is None or row is None or row["removed_at"]:
            return False
        pointer: WarcPointer | None = meta.pointer_in(request.meta, response.url)
        self.record_removed(rid, request.url, response.status, pointer, reason)
        logger.info("Release %s is gone (%s: %s): recorded as removed", rid, reason, detail)
        return True

    def _check_count_drop(self, listed: int) -> None:
        self.flags += count_drop_flags(self.prev_run, listed, self.config)

    def _check_coverage_drop(self, coverage: dict[str, float]) -> None:
        self.flags += coverage_drop_flags(self.prev_run, self.coverage["items"], coverage, self.config)

    # -- closing --------------------------------------------------------------------------------------------

    def spider_closed(self, reason: str) -> None:
        """Final checkpoint, the run record, and the lock released."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        try:
            if self.active and self.state is not None:
                self._finish(reason)
        finally:
            if self._events is not None:
                self._events.close()
            if self.state is not None:
                self.state.close()
            if self.lock is not None:
                self.lock.release()

    def prepare_finish(self, reason: str) -> None:
        """The last checkpoint and the drop flags (once): the verdict (crawler.report) reads them from the stats
        before the run record is written."""
        if self._prepared is not None or not self.active or self.state is None:
            return
        self.flush()
        listed = self.listed_at_idle if self.listed_at_idle is not None else len(self.seen)
        if self.listed_at_idle is None and reason == "finished":
            self._check_count_drop(listed)
        items = self.coverage["items"]
        coverage: dict[str, Any] = {"items": items}
        coverage.update({name: (self.coverage[name] / items if items else 0.0) for name in COVERAGE_FIELDS})
        if reason == "finished":
            self._check_coverage_drop(coverage)
        self.stats.set_value("recurring/listed", listed)
        if self.flags:
            self.stats.set_value("recurring/flagged", ",".join(self.flags))
        self._prepared = (listed, coverage)

    def _finish(self, reason: str) -> None:
        assert self.state is not None
        self.prepare_finish(reason)
        assert self._prepared is not None
        listed, coverage = self._prepared
        # the verdict of crawler.report (run/outcome) when it ran; else what the close reason and flags say
        outcome = str(self.stats.get_value("run/outcome") or "")
        if not outcome:
            outcome = reason if reason != "finished" else ("flagged" if self.flags else "complete")
        capture = get_capture(self.crawler)
        files = list(capture.writer.closed_files) if capture is not None and capture.writer is not None else []
        stats = {k: v for k, v in self.stats.get_stats().items() if isinstance(v, int | float | str)}
        self.state.finish_run(self.run_id, outcome, listed=listed, flags=self.flags, coverage=coverage,
                              stats=stats, warc_files=files)
        logger.info("Run %d of %r recorded: %s", self.run_id, self.portal, outcome)
