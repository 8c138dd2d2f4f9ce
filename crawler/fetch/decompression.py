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
from scrapy.http import Response, TextResponse

from crawler.fetch.failure_log import record_failure
from crawler.fetch.failure_reasons import ContentDecoding, MaxSize

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request


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
            return super().process_response(request, _untyped(request, response))
        except IgnoreRequest as exc:
            record_failure(self.crawler, request, MaxSize.reason, str(exc), response)
            raise
        except Exception as exc:  # zlib.error, brotli.error, OSError: the body lies about its encoding
            record_failure(self.crawler, request, ContentDecoding.reason, f"{type(exc).__name__}: {exc}", response)
            raise IgnoreRequest(f"cannot decode the body of {response.url}: {exc}") from exc


def _untyped(request: Request, response: Response) -> Response:
    """A compressed text response as a plain `Response` with the same attributes, for Scrapy's middleware to decode.

    Scrapy makes the decoded response with ``response.replace(cls=..., encoding=None)``, and ``replace`` reads every
    attribute of the old response first: for a ``TextResponse`` that is its ``encoding``, inferred from the
    *compressed* bytes (charset detection over gzip data, about 1% of a crawl's CPU) and then thrown away. The plain
    response has no such attribute; the decoded response is the same.
    """
    if isinstance(response, TextResponse) and request.method != "HEAD" and response.headers.get(b"Content-Encoding"):
        return Response(**{name: getattr(response, name) for name in Response.attributes})
    return response
