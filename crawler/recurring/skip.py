"""Spider middleware of recurring crawls: which listed releases are requested at all.

Every release request the spider yields counts as *listed* (seen in this run). Then, for a release the state
knows (and does not record as removed):

- archived by an interrupted run that this run resumes: not requested again;
- older than the refresh window (by its printed release date, else by first seen) and no RECURRING_REFRESH:
  not requested.

Filtering here, before the scheduler, costs nothing and leaves no failure rows (each drop is a documented skip,
``resumed`` or ``old``, told to the accounting by ``record_skip``); list pages and unknown releases pass untouched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

from scrapy import Request

from crawler.fetch.failure_log import record_skip
from crawler.recurring.config import CHECK_META_KEY, RecurringComponent
from crawler.recurring.controller import active_recurring

if TYPE_CHECKING:
    from scrapy.http import Response


class ReleaseSkipMiddleware(RecurringComponent):
    """See the module docstring."""

    def wanted(self, request: Request) -> bool:
        """Mark a listed release as seen; False when it is not to be requested in this run."""
        ext = active_recurring(self.crawler)
        if ext is None or ext.state is None or request.meta.get(CHECK_META_KEY):
            return True
        rid = ext.release_id_for(request.url)
        if rid is None:
            return True
        ext.mark_seen(rid, request.url)
        row = ext.state.release(rid)
        if row is None or row["removed_at"]:
            return True
        stats = self.crawler.stats
        if ext.resume_since and (row["last_fetched"] or "") >= ext.resume_since:
            stats.inc_value("recurring/resume_skipped")
            record_skip(self.crawler, request, "resumed")
            return False
        if not ext.config.refresh and ext.is_old(row):
            stats.inc_value("recurring/skipped_old")
            record_skip(self.crawler, request, "old")
            return False
        return True

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        for element in result:
            if not isinstance(element, Request) or self.wanted(element):
                yield element

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any]
                                          ) -> AsyncIterator[Any]:
        async for element in result:
            if not isinstance(element, Request) or self.wanted(element):
                yield element
