"""Scrapy extension that writes every downloaded response (and its request) to WARC.

It listens to ``response_downloaded``, which the downloader sends before any downloader middleware's
``process_response`` runs: the body is still Content-Encoded, and redirects (3xx) and error responses that
never reach a callback are captured too. The record's `archives.pointer.WarcPointer` goes into
``request.meta["warc"]`` (``crawler.meta``): that is how the spider, the failure log and the recurring machinery get
it, without importing this package. It also writes the skip records the spider signals
(``crawler.signals.attachment_skipped``).

Settings read (defaults in ``crawler/settings.py``): ``WARC_ENABLED``, ``WARC_OUTPUT_DIR``, ``WARC_PREFIX``,
``WARC_MAX_SIZE``, ``WARC_OPERATOR``, ``WARC_FSYNC_INTERVAL``, ``WARC_CRAWLHOST`` (empty: socket.gethostname()),
``WARC_CRAWL_LOG_LEVEL``, ``WARC_CRAWL_LOG_MAX_BYTES``; for warcinfo only: ``ROBOTSTXT_OBEY``, ``USER_AGENT``,
``BOT_NAME``, ``LOG_FORMAT``, ``LOG_DATEFORMAT`` and the settings named in ``WARCINFO_SETTINGS``.

``WARC-Date`` is the capture start as far as Scrapy lets us know it: the time of ``response_downloaded``
minus ``request.meta["download_latency"]`` (the time from sending the request to the response headers, set by
the HTTP/1.1 handler). It is never earlier than the real start, and later by at most the body transfer time.
"""

from __future__ import annotations

import json
import logging
import platform
import socket
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from archives.http_record import HttpExchange, header_text
from archives.skip_records import skip_record_fields
from archives.warc_writer import RotatingWarcWriter, WarcWriteError, revisit_profile
from crawler import meta, wiring
from crawler.crawl_logs import OnlyThisCrawl
from crawler.signals import attachment_skipped

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Request, Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

CLOSE_REASON = "warc_write_failed"
RECONSTRUCTION_NOTE = (
    "HTTP request and response blocks are reconstructed from what Scrapy keeps, not copied from the wire: "
    "header names are title-cased and their original order and hop-by-hop headers (Connection, Keep-Alive, "
    "Transfer-Encoding) are lost; bodies are de-chunked and Content-Length is regenerated from the stored "
    "bytes; Content-Encoding is kept and the body is stored as received (still compressed); reason phrases "
    "are the standard ones (empty for unknown codes); HTTP/2 is written as HTTP/1.1 with WARC-Protocol: h2; "
    "non-ASCII header octets are percent-encoded byte by byte; request Host and Content-Length headers are "
    "regenerated. WARC-Date is the response_downloaded time minus Scrapy's download_latency."
)
WARCINFO_SETTINGS = (
    "BOT_NAME",
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "DEFAULT_REQUEST_HEADERS",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "RANDOMIZE_DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "DOWNLOAD_TIMEOUT",
    "DOWNLOAD_MAXSIZE",
    "DOWNLOAD_FAIL_ON_DATALOSS",
    "DEPTH_LIMIT",
    "RETRY_ENABLED",
    "RETRY_TIMES",
    "RETRY_HTTP_CODES",
    "REDIRECT_ENABLED",
    "REDIRECT_MAX_TIMES",
    "COOKIES_ENABLED",
    "WARC_PREFIX",
    "WARC_MAX_SIZE",
)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def scrapy_headers(headers: Headers) -> list[tuple[str, str]]:
    """All header values in order, repeated headers kept (``getlist``), as ASCII text."""
    return [(header_text(key), header_text(value)) for key in headers for value in headers.getlist(key)]


def exchange_from_scrapy(request: Request, response: Response, received_at: datetime) -> HttpExchange:
    """Convert a downloaded Scrapy request/response into an `HttpExchange`."""
    latency = request.meta.get("download_latency")
    started = received_at
    if isinstance(latency, int | float) and 0 <= latency < 86400:
        started = received_at - timedelta(seconds=latency)
    ip = getattr(response, "ip_address", None)
    return HttpExchange(
        method=request.method,
        url=response.url,
        request_headers=scrapy_headers(request.headers),
        request_body=request.body,
        protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        status=response.status,
        response_headers=scrapy_headers(response.headers),
        body=response.body,
        ip_address=str(ip) if ip is not None else None,
        started_at=started,
        truncated="disconnect" if "dataloss" in response.flags else None,
    )


def get_capture(crawler: Crawler) -> WarcCaptureExtension | None:
    """Return the crawler's capture extension, if it is enabled."""
    return wiring.extension(crawler, WarcCaptureExtension)


class _CrawlLogHandler(logging.Handler):
    """Keep formatted log lines in an anonymous temp file, up to a byte cap."""

    def __init__(self, level: str | int, max_bytes: int) -> None:
        super().__init__(level)
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the whole crawl
        self.max_bytes = max_bytes
        self.size = 0
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode("utf-8", "backslashreplace")
            if self.size + len(line) > self.max_bytes:
                self.dropped += 1
                return
            self.file.write(line)
            self.size += len(line)
        except Exception:
            self.handleError(record)

    def append(self, text: str) -> None:
        data = text.encode("utf-8", "backslashreplace")
        self.file.write(data)
        self.size += len(data)

    def close(self) -> None:
        self.file.close()
        super().close()


class WarcCaptureExtension:
    """Write request/response record pairs on ``response_downloaded``; see the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.output_dir: str = wiring.get(settings, "WARC_OUTPUT_DIR")
        self.prefix: str = wiring.get(settings, "WARC_PREFIX")
        self.max_size: int = wiring.getint(settings, "WARC_MAX_SIZE")
        self.operator: str = wiring.get(settings, "WARC_OPERATOR") or ""
        self.fsync_interval: float = wiring.getfloat(settings, "WARC_FSYNC_INTERVAL")
        self.crawlhost: str = wiring.get(settings, "WARC_CRAWLHOST") or socket.gethostname()
        self.log_level = wiring.get(settings, "WARC_CRAWL_LOG_LEVEL")
        self.log_max_bytes: int = wiring.getint(settings, "WARC_CRAWL_LOG_MAX_BYTES")
        self.writer: RotatingWarcWriter | None = None
        self.failed = False
        self._log_handler: _CrawlLogHandler | None = None
        self._close_call: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not wiring.getbool(crawler.settings, "WARC_ENABLED"):
            raise NotConfigured("WARC capture is off: set WARC_ENABLED to True to enable it")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.attachment_skipped, signal=attachment_skipped)
        ext.attach_crawl_log()  # from here on, so the log holds the enabled components and settings
        return ext

    # -- warcinfo ---------------------------------------------------------------------------------

    def warcinfo_fields(self) -> dict[str, Any]:
        """The warcinfo block written at the start of every file."""
        settings = self.crawler.settings
        chosen = {name: settings.get(name) for name in WARCINFO_SETTINGS}
        software = (
            f"district-portal-archiver/{_version('district-portal-archiver')} "
            f"Scrapy/{_version('scrapy')} warcio/{_version('warcio')} "
            f"Python/{platform.python_version()}"
        )
        return {
            "software": software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": self.crawlhost,
            "operator": self.operator or "unspecified",
            "robots": "classic" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "http-header-user-agent": settings.get("USER_AGENT") or "",
            "isPartOf": settings.get("BOT_NAME") or "",
            "run-id": wiring.run_id(self.crawler),
            "description": RECONSTRUCTION_NOTE,
            "crawl-settings": json.dumps(chosen, ensure_ascii=False, sort_keys=True, default=str),
        }

    # -- signals ----------------------------------------------------------------------------------

    def attach_crawl_log(self) -> None:
        """Start copying log lines (root logger) into the crawl log that is archived at close."""
        if self._log_handler is not None:
            return
        handler = _CrawlLogHandler(self.log_level, self.log_max_bytes)
        handler.addFilter(OnlyThisCrawl(self.crawler))  # several crawls in one process: this crawl's lines only
        settings = self.crawler.settings
        handler.setFormatter(logging.Formatter(settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT")))
        logging.getLogger().addHandler(handler)
        self._log_handler = handler

    def spider_opened(self) -> None:
        """Create the writer (files open lazily, on the first record); the crawl log is already attached."""
        self.attach_crawl_log()
        try:
            self.writer = RotatingWarcWriter(
                self.output_dir,
                self.prefix,
                self.max_size,
                self.warcinfo_fields(),
                crawlhost=self.crawlhost,
                fsync_interval=self.fsync_interval,
            )
            self.writer.directory.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:
            self._fail(f"cannot prepare WARC output directory {self.output_dir!r}: {exc}")

    def response_downloaded(self, response: Response, request: Request) -> None:
        """Write the record pair and store its pointer in ``request.meta["warc"]``."""
        request.meta.pop(meta.WARC, None)  # a pointer copied from a redirect/retry parent is not ours
        stats = self.crawler.stats
        if self.writer is None or self.failed:
            stats.inc_value("warc/skipped/writer_failed")
            return
        if not response.url.startswith(("http://", "https://")):
            stats.inc_value("warc/skipped/scheme")
            return
        exchange = exchange_from_scrapy(request, response, datetime.now(UTC))
        try:
            profile = revisit_profile(exchange, request.meta.get(meta.RECURRING_ORIGINAL))
            if profile is not None:
                pointer = self.writer.write_revisit(exchange, request.meta[meta.RECURRING_ORIGINAL], profile)
            else:
                pointer = self.writer.write_exchange(exchange)
            self.writer.fsync_if_due()
        except WarcWriteError as exc:
            self._fail(str(exc))
            return
        request.meta[meta.WARC] = replace(pointer, revisit=profile)
        stats.inc_value("warc/records", 2)
        stats.inc_value("warc/bytes", pointer.length or 0)
        stats.inc_value("warc/responses" if profile is None else "warc/revisits")
        if exchange.truncated:
            stats.inc_value(f"warc/truncated/{exchange.truncated}")

    def attachment_skipped(self, url: str, fields: Mapping[str, object]) -> None:
        """Write the skip record the spider signalled (``crawler.signals.attachment_skipped``)."""
        if self.writer is None or self.failed:
            return
        try:
            self.writer.write_metadata(url, skip_record_fields(fields))
        except WarcWriteError as exc:
            logger.error("Could not write the skip record of %s: %s", url, exc)
            self.crawler.stats.inc_value("warc/skip_record_failed")

    async def spider_closed(self, reason: str) -> None:
        """Write the crawl log as a ``resource`` record, then close (rename, fixity) the WARC file."""
        handler, self._log_handler = self._log_handler, None
        if handler is not None:
            logging.getLogger().removeHandler(handler)
        writer = self.writer
        try:
            if writer is not None and handler is not None:
                self._write_crawl_log(writer, handler, reason)
        except WarcWriteError as exc:
            self.failed = True
            logger.error("Could not write the crawl log to WARC: %s", exc)
        finally:
            if handler is not None:
                handler.close()
        if writer is not None:
            try:
                closed = writer.close()
            except (WarcWriteError, OSError) as exc:
                logger.error("Could not close WARC file %s: %s", writer.current_filename, exc)
                self.crawler.stats.set_value("warc/close_failed", 1)
            else:
                self.crawler.stats.set_value("warc/files", len(closed))
                self.crawler.stats.set_value("warc/file_bytes", sum(
                    (writer.directory / name).stat().st_size for name in closed
                    if (writer.directory / name).is_file()))
                logger.info("WARC files closed: %s", ", ".join(closed) or "(none)")

    def _write_crawl_log(self, writer: RotatingWarcWriter, handler: _CrawlLogHandler, reason: str) -> None:
        if handler.dropped:
            handler.append(f"[{handler.dropped} log lines dropped: WARC_CRAWL_LOG_MAX_BYTES reached]\n")
        stats = self.crawler.stats.get_stats()
        handler.append(f"close reason: {reason}\nstats: {json.dumps(stats, default=str, sort_keys=True)}\n")
        handler.file.flush()
        size = handler.file.tell()
        handler.file.seek(0)
        spider = self.crawler.spider
        name = getattr(spider, "name", None) or "spider"
        started = stats.get("start_time")
        stamp = started.strftime("%Y%m%dT%H%M%SZ") if isinstance(started, datetime) else "unknown"
        writer.write_resource(
            f"urn:x-crawl-log:{header_text(name)}:{stamp}",
            handler.file,
            "text/plain; charset=utf-8",
            length=size,
        )

    # -- durability API used by the JSONL export pipeline --------------------------------------------------

    def sync(self) -> bool:
        """fsync the WARC; return False (and stop the crawl) if that failed."""
        if self.writer is None:
            return False
        try:
            self.writer.sync()
        except WarcWriteError as exc:
            self._fail(str(exc))
            return False
        return True

    def pointer_is_durable(self, pointer: dict[str, Any]) -> bool:
        """True when the record behind *pointer* has been fsynced."""
        return self.writer is not None and self.writer.pointer_is_durable(pointer)

    # -- failure ----------------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        """Log, flag, count and close the spider with reason ``warc_write_failed`` (once)."""
        logger.error("WARC capture failed, closing the spider (%s): %s", CLOSE_REASON, message)
        self.crawler.stats.set_value("warc/write_failed", 1)
        self.crawler.stats.set_value("output/write_failed/warc", message[:300])
        if self.failed:
            return
        self.failed = True
        engine = self.crawler.engine
        if engine is None or engine.spider is None:
            return
        self._close_call = deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))
        self._close_call.addErrback(self._close_error)

    @staticmethod
    def _close_error(failure: Failure) -> None:
        logger.error("Closing the spider after a WARC failure failed: %s", failure.getErrorMessage())
