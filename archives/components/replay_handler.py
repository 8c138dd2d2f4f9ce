"""A Scrapy download handler that answers requests from WARC files instead of the network.

Used by ``crawler recrawl`` to re-run a whole crawl's link discovery offline: the spider walks the archived
home, column and dataproxy pages (POSTs matched on method, URL and body exactly) and re-extracts every release.
A request that was never captured gets a 404 with ``X-Archive-Replay: not-captured``; nothing reaches the network.
Settings: ``REPLAY_WARC_PATHS`` (files or directories).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes

from archives.capture_index import CaptureIndex
from crawler import meta

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

#: Headers that describe the stored bytes; the handler serves the decoded body, so they are dropped.
_FRAMING_HEADERS = {b"content-encoding", b"content-length", b"transfer-encoding"}


class WarcReplayDownloadHandler(BaseDownloadHandler):
    """Serve each request with the response record captured for exactly that request."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        paths = crawler.settings.getlist("REPLAY_WARC_PATHS")
        if not paths:
            raise NotConfigured("REPLAY_WARC_PATHS is empty")
        self.index = CaptureIndex(paths)

    async def download_request(self, request: Request) -> Response:
        stats = self.crawler.stats
        stored = self.index.lookup(request.method, request.url, request.body or b"")
        if stored is None:
            if stats is not None:
                stats.inc_value("replay/not_captured")
            headers = Headers({"X-Archive-Replay": "not-captured"})
            return responsetypes.from_args(url=request.url, headers=headers)(
                url=request.url, status=404, headers=headers, body=b"", request=request)
        if stats is not None:
            stats.inc_value("replay/served")
        headers = Headers([(k, v) for k, v in stored.headers if k.lower().encode() not in _FRAMING_HEADERS])
        request.meta[meta.WARC] = stored.pointer
        cls: Any = responsetypes.from_args(headers=headers, url=request.url, body=stored.body)
        response: Response = cls(url=request.url, status=stored.status, headers=headers, body=stored.body,
                                 request=request)
        return response
