"""The JSON Lines export pipeline: it writes a release row only once the WARC records it points to are durable.

Settings (defaults in ``crawler/settings.py``): ``JSONL_OUTPUT_PATH``, ``JSONL_FSYNC_INTERVAL``, ``JSONL_WARC_FIELD``
(the item field that holds the WARC pointer dict), ``JSONL_REQUIRE_WARC`` (when False, e.g. in replay, rows without
a pointer are written at once). Rows go through the strict writer of ``archives.jsonl``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self

from scrapy.exceptions import DropItem

from archives.components.capture import get_capture
from archives.jsonl import JsonlWriter
from crawler import wiring
from crawler.items import exported_row
from crawler.signals import rows_written

#: The close reason of a crawl whose release rows could not be written (a full disk): the run is failed.
CLOSE_REASON = "jsonl_write_failed"

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)


def _attachment_pointers(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The WARC pointers of a release row's archived attachments."""
    attachments = row.get("attachments")
    if not isinstance(attachments, list):
        return []
    return [a["warc"] for a in attachments if isinstance(a, dict) and isinstance(a.get("warc"), dict)]


class DurabilitySource(Protocol):
    """What the pipeline needs from the WARC side (`WarcCaptureExtension` or `RotatingWarcWriter`)."""

    def sync(self) -> Any: ...

    def pointer_is_durable(self, pointer: dict[str, Any]) -> bool: ...


class JsonlExportPipeline:
    """Item pipeline: queue rows, fsync the WARC, then append and fsync the rows that point into it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        fsync_interval: float = 1.0,
        archive: DurabilitySource | Callable[[], DurabilitySource | None] | None = None,
        stats: StatsCollector | None = None,
        warc_field: str = "warc",
        require_warc: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.fsync_interval = fsync_interval
        self._archive = archive
        self.stats = stats
        self.warc_field = warc_field
        self.require_warc = require_warc
        self._clock = clock
        self._last_flush = clock()
        self.pending: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        self.writer: JsonlWriter | None = None
        self.failed = False
        self.crawler: Crawler | None = None  # set by from_crawler: signals, and stopping the crawl on a write error
        self._loop: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        pipeline = cls(
            wiring.get(settings, "JSONL_OUTPUT_PATH"),
            fsync_interval=wiring.getfloat(settings, "JSONL_FSYNC_INTERVAL"),
            archive=lambda: get_capture(crawler),
            stats=crawler.stats,
            warc_field=wiring.get(settings, "JSONL_WARC_FIELD"),
            require_warc=wiring.getbool(settings, "JSONL_REQUIRE_WARC"),
        )
        pipeline.crawler = crawler
        return pipeline

    @property
    def archive(self) -> DurabilitySource | None:
        if self._archive is None or hasattr(self._archive, "sync"):
            return self._archive  # type: ignore[return-value]  # a DurabilitySource, not its factory
        return self._archive()

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, count)

    # -- pipeline hooks -------------------------------------------------------------------------

    def open_spider(self) -> None:
        """Open the JSONL file and start the 1 s flush timer (when a reactor is running)."""
        self.writer = JsonlWriter(self.path)
        if self.stats is not None:  # this run's rows are the bytes from here to the end offset (report.json)
            self.stats.set_value("releases/offset_start", self.writer.size)
        if "twisted.internet.reactor" not in sys.modules:  # never install a reactor as a side effect
            return
        from twisted.internet import reactor
        from twisted.internet.task import LoopingCall

        if reactor.running:
            self._loop = LoopingCall(self._timer_flush)
            self._loop.start(max(self.fsync_interval, 0.05), now=False).addErrback(
                lambda f: logger.error("JSONL flush timer stopped: %s", f.getErrorMessage())
            )

    def process_item(self, item: Any) -> Any:
        """Queue the item's row; flush when the interval has elapsed."""
        row = exported_row(item)
        pointer = row.get(self.warc_field)
        if self.require_warc and not (isinstance(pointer, dict) and pointer.get("filename")):
            logger.error("Item without a WARC record dropped: %s", row.get("url"))
            self._inc("releases/no_warc_record")
            raise DropItem("no WARC record for this item")
        self.pending.append((row, pointer if isinstance(pointer, dict) else None))
        if self._clock() - self._last_flush >= self.fsync_interval:
            self.flush()
        return item

    def close_spider(self) -> None:
        """Stop the timer, sync the WARC, write what is durable and close the file."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        try:
            self.flush()
            if self.pending:
                count = len(self.pending)
                logger.error("%d JSONL rows not written: their WARC records are not durable", count)
                self._inc("releases/not_durable", len(self.pending))
                self.pending.clear()
        finally:
            if self.writer is not None:
                if self.stats is not None:
                    self.stats.set_value("releases/offset_end", self.writer.size)
                self.writer.close()
                self.writer = None

    # -- flushing -------------------------------------------------------------------------------

    def _timer_flush(self) -> None:
        try:
            self.flush()
        except Exception:
            logger.exception("JSONL flush failed")

    def flush(self) -> int:
        """Sync the WARC once, then append and fsync every queued row whose record is durable."""
        self._last_flush = self._clock()
        if not self.pending or self.writer is None:
            return 0
        archive = self.archive
        if archive is not None and any(p is not None for _, p in self.pending):
            archive.sync()
        ready: list[dict[str, Any]] = []
        waiting: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
        for row, pointer in self.pending:
            # the row's attachment records too: a row never points at a record a crash could still lose
            pointers = [p for p in (pointer, *_attachment_pointers(row)) if p is not None]
            # no WARC writer in this process (an offline recrawl): the records already exist, nothing to wait for
            durable = archive is None or all(archive.pointer_is_durable(p) for p in pointers)
            if durable and not waiting:  # keep row order: stop at the first row that must wait
                ready.append(row)
            else:
                waiting.append((row, pointer))
        before = Counter(self.writer.counts)
        self.pending = waiting
        if self.failed:
            self._inc("releases/not_written", len(ready))
            return 0
        try:
            written = self.writer.write_rows(ready)
        except OSError as exc:  # a full disk: the rows stay in the WARC (crawler replay), the run is failed
            self.failed = True
            self._inc("releases/not_written", len(ready))
            if self.crawler is not None:
                wiring.output_failed(self.crawler, "releases.jsonl", exc, CLOSE_REASON)
            else:
                logger.error("Could not write %d JSONL rows: %s", len(ready), exc)
            return 0
        self._inc("releases/written", written)
        for key, value in (self.writer.counts - before).items():
            self._inc(f"releases/{key}", value)
        if self.crawler is not None and ready:
            self.crawler.signals.send_catch_log(rows_written, urls=[str(row.get("url")) for row in ready])
        return written
