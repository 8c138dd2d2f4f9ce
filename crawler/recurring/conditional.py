"""Downloader middleware of recurring crawls: conditional re-requests, 304s and removals.

Which releases are requested at all is decided earlier, by `crawler.recurring.skip`. Here, a request for a
release the state knows (and does not record as removed) gets ``If-None-Match``/``If-Modified-Since`` and the
original capture in ``meta["recurring_original"]``, but only when that original's WARC file is in the archive;
the capture extension then writes a revisit for a 304 or an identical payload.

On the way back, a 304 is recorded and dropped (IgnoreRequest: nothing to parse), and a 404/410 answer to a
removal check is recorded as a removal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest

from archives.pointer import WarcPointer
from crawler import meta
from crawler.fetch.failure_log import record_skip
from crawler.recurring.config import CHECK_META_KEY, RecurringComponent
from crawler.recurring.controller import get_recurring

if TYPE_CHECKING:
    from scrapy.http import Request, Response

    from crawler.recurring.controller import RecurringExtension


class ConditionalRequestMiddleware(RecurringComponent):
    """See the module docstring."""

    @property
    def ext(self) -> RecurringExtension | None:
        return get_recurring(self.crawler)

    def process_request(self, request: Request) -> None:
        ext = self.ext
        if ext is None:
            return None
        if ext.locked_out:
            raise IgnoreRequest("this run does not hold the portal lock")
        if not ext.active or ext.state is None:
            return None
        rid = ext.release_id_for(request.url)
        if rid is None:
            return None
        stats = self.crawler.stats
        if rid in ext.current:
            return None  # handled earlier in this run (another URL variant): let the dupefilter decide
        row = ext.state.release(rid)
        if row is None or row["removed_at"]:
            return None
        if not ext.revisits_allowed:
            return None
        if not row["orig_record_id"] or not ext.warc_exists(row["orig_filename"]):
            stats.inc_value("recurring/original_missing")
            return None
        request.meta[meta.RECURRING_ORIGINAL] = WarcPointer.from_state(row).refers_to()
        if row["etag"]:
            request.headers["If-None-Match"] = row["etag"]
        if row["last_modified"]:
            request.headers["If-Modified-Since"] = row["last_modified"]
        stats.inc_value("recurring/conditional_requests")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        ext = self.ext
        if ext is None or not ext.active:
            return response
        rid = ext.release_id_for(response.url)
        if rid is None:
            return response
        # response.request is not set yet inside the downloader middlewares: read the request's meta
        pointer: WarcPointer | None = meta.pointer_in(request.meta, response.url)
        if pointer is not None:
            ext.remember_capture(pointer.record_id, _validators(response, pointer))
        if response.status == 304 and pointer is not None and pointer.revisit:
            ext.queue_recapture(rid, pointer, revisit=True)
            self.crawler.stats.inc_value("recurring/not_modified")
            record_skip(self.crawler, request, "not_modified")
            raise IgnoreRequest(f"{rid} not modified")
        if request.meta.get(CHECK_META_KEY) and response.status in (404, 410):
            ext.record_removed(rid, response.url, response.status, pointer)
            raise IgnoreRequest(f"{rid} is gone ({response.status})")
        return response


def _validators(response: Response, pointer: WarcPointer) -> dict[str, Any]:
    def header(name: bytes) -> str | None:
        value = response.headers.get(name)
        return value.decode("latin-1") if value else None

    return {"etag": header(b"ETag"), "last_modified": header(b"Last-Modified"), "date": pointer.date,
            "revisit": pointer.revisit}
