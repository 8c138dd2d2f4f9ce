"""Attachments of a release: fetched after its page, archived as WARC response records, listed in its row.

A release item waits here until each of its attachments is archived or skipped, one after another; then it is
yielded to the pipelines. An attachment linked from several releases is fetched once: its outcome is remembered
(``ATTACHMENTS_MEMORY`` URLs, least recently used forgotten first, mostly on disk: ``spiders.attachment_memory``)
and a release that links a file still in flight waits for that one fetch. Attachment responses are archived (by the
capture extension) and measured, never parsed: their callback extracts nothing. A file larger than
``ATTACHMENTS_MAX_SIZE`` is cancelled by Scrapy's per-request ``download_maxsize`` before any of it reaches the
WARC, and is listed with ``warc: null``; every skip (size, HTTP error, out of scope, robots, network failure) is
signalled (``crawler.signals.attachment_skipped``), and the capture extension writes it to the WARC as a metadata
record with its reason. The spider writes nothing itself.

Limits never lose the release: an attachment URL over ``URLLENGTH_LIMIT`` is skipped (``url-too-long``), and so is
every attachment of a release page found at ``DEPTH_LIMIT`` (``depth-limit``: the attachment would be one deeper);
the row lists them with ``skip_reason`` ``url_too_long`` / ``depth_limit``. A link no URL can be made of is listed
as written with ``malformed_url`` and counted (``links/malformed``), never requested.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import scrapy
from scrapy import signals
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

from crawler import wiring
from crawler.fetch.asset_scope import ASSET_META, AssetScope
from crawler.fetch.failure_reasons import RobotsDisallowed, RobotsUnavailable
from crawler.items import archived_attachment, awaits_fetch, skipped_attachment
from crawler.meta import capture_pointer
from crawler.signals import attachment_skipped
from spiders.attachment_memory import AttachmentMemory
from spiders.links import MALFORMED_STAT

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: Above release pages (10): a release row waits in memory until its attachments are done.
ATTACHMENT_PRIORITY = 20
#: Request meta: the attachment URL as linked (a redirect changes ``response.url``, not this).
URL_META = "attachment_url"
#: Request meta: Content-Type and declared length of the latest response headers, for the skip record.
HEADERS_META = "attachment_headers"


@dataclass(frozen=True)
class AttachmentConfig:
    """The ``ATTACHMENTS_*`` settings, checked once."""

    enabled: bool
    max_size: int
    memory: int
    #: DEPTH_LIMIT (0: none): an attachment of a release page at this depth or deeper is skipped (depth_limit)
    depth_limit: int = 0
    #: URLLENGTH_LIMIT (0: none): a longer attachment URL is skipped (url_too_long)
    url_limit: int = 0

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        max_size = wiring.getint(settings, "ATTACHMENTS_MAX_SIZE")
        memory = wiring.getint(settings, "ATTACHMENTS_MEMORY")
        if max_size <= 0:
            raise ValueError(f"ATTACHMENTS_MAX_SIZE must be a positive number of bytes, got {max_size}")
        if memory <= 0:
            raise ValueError(f"ATTACHMENTS_MEMORY must be a positive number of URLs, got {memory}")
        return cls(wiring.getbool(settings, "ATTACHMENTS_ENABLED"), max_size, memory,
                   wiring.getint(settings, "DEPTH_LIMIT"), wiring.getint(settings, "URLLENGTH_LIMIT"))


class _Waiting:
    """A release item, the attachment URLs it still waits for, and their depth (the release page's + 1)."""

    __slots__ = ("depth", "item", "todo")

    def __init__(self, item: Any, todo: list[str], depth: int = 1) -> None:
        self.item = item
        self.todo = todo
        self.depth = depth


class AttachmentTracker:
    """Chains each release's attachment fetches and remembers their outcomes; see the module docstring."""

    def __init__(self, crawler: Crawler, config: AttachmentConfig, scope: AssetScope,
                 callback: Callable[..., Any], errback: Callable[..., Any]) -> None:
        self.crawler = crawler
        self.config = config
        self.scope = scope
        self.callback = callback
        self.errback = errback
        self.results = AttachmentMemory(config.memory)
        self.inflight: dict[str, list[_Waiting]] = {}
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.results.close, signal=signals.spider_closed)

    def _inc(self, key: str, count: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    # -- the release side -------------------------------------------------------------------------------

    def release(self, item: Any, page_depth: int = 0) -> Iterator[Any]:
        """The item itself when it has no attachments to wait for, else the request for the first one.

        ``page_depth`` is the release page's depth (``response.meta["depth"]``): its attachments are one deeper.
        """
        malformed = sum(1 for a in item.attachments or () if a.get("skip_reason") == "malformed_url")
        if malformed:
            self._inc(MALFORMED_STAT, malformed)
            self._inc("attachments/skipped/malformed-url", malformed)
        todo = [a["url"] for a in item.attachments or () if awaits_fetch(a)] if self.config.enabled else []
        if not todo:
            yield item
            return
        yield from self._advance(_Waiting(item, todo, page_depth + 1))

    def _advance(self, waiting: _Waiting) -> Iterator[Any]:
        while waiting.todo:
            url = waiting.todo[0]
            result = self._known(url)
            if result is None and url in self.inflight:
                self.inflight[url].append(waiting)
                return
            if result is None:
                result = self._refused(url, waiting)
            if result is None:
                try:
                    request = self._request(url, waiting.item.url, waiting.depth)
                except ValueError as exc:  # no request can be made of it: skipped, never a release left waiting
                    result = self._skip(url, "malformed-url", f"no request can be made of it: {exc}",
                                        waiting.item.url)
                else:
                    self.inflight[url] = [waiting]
                    yield request
                    return
            self._fill(waiting.item, url, result)
            waiting.todo.pop(0)
        yield waiting.item

    def _refused(self, url: str, waiting: _Waiting) -> dict[str, Any] | None:
        """The skip of an attachment not to be requested (scope, URL length, depth), or None to request it."""
        config, referer = self.config, waiting.item.url
        if not self.scope.allows(url):
            return self._skip(url, "out-of-scope", "host is neither the portal's nor in PORTAL_ASSET_HOSTS", referer)
        if config.url_limit and len(url) > config.url_limit:
            return self._skip(url, "url-too-long", f"URL of {len(url)} characters, over URLLENGTH_LIMIT "
                              f"{config.url_limit}", referer, limit=config.url_limit)
        if config.depth_limit and waiting.depth > config.depth_limit:
            return self._skip(url, "depth-limit", f"depth {waiting.depth}, over DEPTH_LIMIT {config.depth_limit}",
                              referer, limit=config.depth_limit)
        return None

    def _request(self, url: str, referer: str, depth: int) -> scrapy.Request:
        meta = {ASSET_META: "attachment", "allow_offsite": True, URL_META: url, "depth": depth,
                "download_maxsize": self.config.max_size, "linked_from": referer}
        # dont_filter: this tracker deduplicates (a dupefilter drop would leave the release waiting forever).
        return scrapy.Request(url, callback=self.callback, errback=self.errback, priority=ATTACHMENT_PRIORITY,
                              meta=meta, headers={"Referer": referer}, dont_filter=True)

    @staticmethod
    def _fill(item: Any, url: str, result: dict[str, Any]) -> None:
        for attachment in item.attachments:
            if attachment["url"] == url:
                attachment.update(result)

    def _known(self, url: str) -> dict[str, Any] | None:
        return self.results.get(url)

    def _remember(self, url: str, result: dict[str, Any]) -> None:
        self.results.put(url, result)

    def _resolve(self, url: str, result: dict[str, Any]) -> Iterator[Any]:
        self._remember(url, result)
        for waiting in self.inflight.pop(url, []):
            yield from self._advance(waiting)

    # -- the download side -------------------------------------------------------------------------------

    def headers_received(self, headers: Headers, body_length: Any, request: scrapy.Request) -> None:
        """Keep Content-Type and the declared length: a cancelled download leaves no response to read them from."""
        if request.meta.get(ASSET_META) != "attachment":
            return
        content_type = headers.get(b"Content-Type")
        request.meta[HEADERS_META] = {
            "content-type": content_type.decode("latin-1") if content_type else None,
            "declared-size": body_length if isinstance(body_length, int) and body_length >= 0 else None,
        }

    def downloaded(self, response: Response) -> Iterator[Any]:
        """An attachment arrived (and is archived): remember it and let the releases waiting for it go on."""
        url = response.meta[URL_META]
        pointer = capture_pointer(response)
        content_type = response.headers.get(b"Content-Type")
        self._inc("attachments/archived")
        result = archived_attachment(content_type.decode("latin-1") if content_type else None, len(response.body),
                                     pointer)
        yield from self._resolve(url, result)

    def failed(self, failure: Failure) -> Iterator[Any]:
        """An attachment was not archived: record why, and let the releases waiting for it go on."""
        request = failure.request  # type: ignore[attr-defined]
        url = request.meta[URL_META]
        assert failure.value is not None
        reason, detail = self._classify(failure.value)
        headers = (request.meta.get(HEADERS_META) or {}) if reason == "size-limit" else {}
        yield from self._resolve(url, self._skip(url, reason, detail, request.meta.get("linked_from"), headers))

    def _classify(self, exc: BaseException) -> tuple[str, str]:
        message = str(exc)
        if isinstance(exc, HttpError) and exc.response is not None:
            return f"http-{exc.response.status}", f"HTTP status {exc.response.status}"
        # Scrapy cancels a download only for download_maxsize (declared or received); decoding past it is ignored
        if isinstance(exc, DownloadCancelledError) or (isinstance(exc, IgnoreRequest) and "MAXSIZE" in message):
            return "size-limit", f"larger than ATTACHMENTS_MAX_SIZE {self.config.max_size}" + (
                f": {message}" if message else "")
        if isinstance(exc, IgnoreRequest):
            kind = "robots" if isinstance(exc, RobotsDisallowed | RobotsUnavailable) else "ignored"
            return kind, message or type(exc).__name__
        return "fetch-failed", f"{type(exc).__name__}: {message}"

    def _skip(self, url: str, reason: str, detail: str, linked_from: str | None,
              headers: dict[str, Any] | None = None, limit: int | None = None) -> dict[str, Any]:
        fields = {"skipped": reason, "reason": detail, **(headers or {}),
                  "limit": self.config.max_size if limit is None else limit, "linked-from": linked_from}
        self._inc(f"attachments/skipped/{reason}")
        logger.info("Attachment not archived (%s: %s): %s", reason, detail, url)
        self.crawler.signals.send_catch_log(attachment_skipped, url=url, fields=fields)
        return skipped_attachment(fields.get("content-type"), fields.get("declared-size"), reason)
