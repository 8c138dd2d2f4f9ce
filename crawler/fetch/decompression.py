"""Scrapy's ``HttpCompressionMiddleware``, with decoding failures written as failure rows.

The WARC keeps the body as received (compressed, or whatever the ``Content-Encoding`` lie covers), so nothing
is lost. A body that cannot be decoded (``Content-Encoding: gzip`` on plain bytes, a corrupt stream) gets a
``content_decoding`` failure row and goes no further, as browsers do (ERR_CONTENT_DECODING_FAILED); one that
decodes past ``DOWNLOAD_MAXSIZE`` (a decompression bomb) gets a ``maxsize`` row. Bodies that decode are handed on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest

from crawler.fetch.failure_log import record_failure
from crawler.fetch.failure_reasons import ContentDecoding, MaxSize

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response


class RecordingHttpCompressionMiddleware(HttpCompressionMiddleware):
    """`HttpCompressionMiddleware` that records what it cannot decode."""

    crawler: Crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = super().from_crawler(crawler)
        middleware.crawler = crawler
        return middleware

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            record_failure(self.crawler, request, MaxSize.reason, str(exc), response)
            raise
        except Exception as exc:  # zlib.error, brotli.error, OSError: the body lies about its encoding
            record_failure(self.crawler, request, ContentDecoding.reason, f"{type(exc).__name__}: {exc}", response)
            raise IgnoreRequest(f"cannot decode the body of {response.url}: {exc}") from exc
