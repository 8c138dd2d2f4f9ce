"""Scrapy's offsite filter, with each request it drops written as a failure row (``offsite`` / ``offsite_redirect``).

Since Scrapy 2.11.2 the filter is a downloader middleware that also runs on the ``request_scheduled`` signal, so
redirects and start requests are filtered before they are queued. An ``IgnoreRequest`` raised there is swallowed
by the engine (no errback, no middleware sees it), so this subclass records the failure itself. A redirect to
another host is archived anyway (the 3xx is captured on ``response_downloaded``); its target is never fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest

from crawler.fetch.failure_log import record_failure
from crawler.fetch.failure_reasons import offsite_failure

if TYPE_CHECKING:
    from scrapy import Request, Spider


class RecordingOffsiteMiddleware(OffsiteMiddleware):
    """`OffsiteMiddleware` that writes a failure row for every request dropped when it is scheduled."""

    def process_request(self, request: Request) -> None:  # type: ignore[override]
        try:
            super().process_request(request)
        except IgnoreRequest as exc:  # "Filtered offsite request to ..."
            raise offsite_failure(request)(str(exc)) from exc

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        try:
            super().request_scheduled(request, spider)
        except IgnoreRequest as exc:
            record_failure(self.crawler, request, offsite_failure(request).reason, str(exc))
            raise
