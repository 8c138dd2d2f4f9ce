"""Politeness across workers: one request rate per host, shared in Redis by every crawl of the cluster.

Portals share hosts (a province's file-storage host serves many districts), and Scrapy's download delay only
spaces the requests of one process. With ``SCALEOUT_RATE_LIMIT_ENABLED`` (the queue worker sets it for its
crawls) every request first reserves its slot at the host in Redis, then waits for it:

- one Lua script per request, GCRA with no burst: ``start = max(next_allowed[host], now)``, ``next_allowed[host]
  = start + interval``, answer ``start - now``; ``now`` is Redis's own clock (``TIME``), so the machines' clocks
  do not matter; the key expires when the host has been idle for a minute;
- ``interval`` is the crawl's download delay (the portal's ``delay``: seconds between requests to a host); like
  Scrapy's AutoThrottle, the middleware takes the downloader's own delay over (sets it to 0) when the spider
  opens, so the wait is not paid twice; a delay of 0 means no limit and no Redis call;
- a crawl keeps at most CONCURRENT_REQUESTS_PER_DOMAIN reservations per host waiting at once, so one crawl does
  not book a shared host's next minutes ahead of the others;
- the middleware sits last before the download (after robots.txt, offsite, scope and the counter guard), so
  only requests that are really sent take a slot; retries and redirects pass through it again.

The combined rate to a host across all workers is therefore at most 1/interval. When Redis cannot be reached the
crawl keeps the same spacing on its own (counted in ``scaleout/rate_limit/redis_errors``): it stays polite, just
not coordinated. The Redis URL comes from the environment variable ``ARCHIVER_REDIS_URL`` (the worker passes it
to its crawls, so a password never appears on a command line).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler import wiring

if TYPE_CHECKING:
    import redis.asyncio
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

REDIS_URL_ENV = "ARCHIVER_REDIS_URL"

#: KEYS[1] the host's key; ARGV[1] the interval in microseconds. Returns the wait in microseconds.
GCRA_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(tat, now)
local next_tat = start + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 60000)
return start - now
"""


class HostRateLimiter:
    """Reserves request slots per host in Redis (GCRA); falls back to local spacing while Redis is away."""

    #: Seconds the limiter spaces requests on its own after a Redis error before it asks Redis again.
    COOL_DOWN = 10.0

    def __init__(self, client: redis.asyncio.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self._script = client.register_script(GCRA_SCRIPT)
        self._local: dict[str, float] = {}
        self._redis_back_at = 0.0
        self.redis_errors = 0

    def key(self, host: str) -> str:
        return f"{self.namespace}:rate:{host.lower()}"

    async def reserve(self, host: str, interval: float) -> float:
        """Reserve the next slot at ``host``; the seconds to wait before sending."""
        if time.monotonic() < self._redis_back_at:
            return self._reserve_locally(host, interval)
        try:
            waited_us = await self._script(keys=[self.key(host)], args=[round(interval * 1_000_000)])
        except Exception as exc:  # any Redis or connection failure: stay polite on our own for a while
            self.redis_errors += 1
            self._redis_back_at = time.monotonic() + self.COOL_DOWN
            logger.error("Shared rate limit: Redis unavailable (%s); spacing requests to each host locally for "
                         "%.0f s", exc, self.COOL_DOWN)
            return self._reserve_locally(host, interval)
        wait = max(0.0, int(waited_us) / 1_000_000)
        self._local[host] = time.monotonic() + wait + interval  # where local spacing would go on from
        return wait

    def _reserve_locally(self, host: str, interval: float) -> float:
        now = time.monotonic()
        start = max(self._local.get(host, 0.0), now)
        self._local[host] = start + interval
        return start - now


class SharedRateLimitMiddleware:
    """Downloader middleware: wait for the host's shared slot before every request (see the module docstring)."""

    def __init__(self, crawler: Crawler, url: str, namespace: str, per_host: int) -> None:
        self.crawler = crawler
        self.url = url
        self.namespace = namespace
        self.per_host = max(1, per_host)
        self.interval = 0.0
        self.limiter: HostRateLimiter | None = None
        self._gates: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not wiring.getbool(settings, "SCALEOUT_RATE_LIMIT_ENABLED"):
            raise NotConfigured("shared rate limit off: set SCALEOUT_RATE_LIMIT_ENABLED (the queue worker does)")
        url = os.environ.get(REDIS_URL_ENV, "")
        if not url:
            logger.error("SCALEOUT_RATE_LIMIT_ENABLED is set but %s is not: this crawl spaces requests with its own "
                         "DOWNLOAD_DELAY only, not coordinated with other workers", REDIS_URL_ENV)
            raise NotConfigured(f"no Redis URL in {REDIS_URL_ENV}")
        mw = cls(crawler, url, str(wiring.get(settings, "SCALEOUT_NAMESPACE")),
                 settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self) -> None:
        """Take the download delay over (as AutoThrottle does): it becomes the shared per-host interval."""
        engine = self.crawler.engine
        assert engine is not None
        downloader: Any = engine.downloader
        self.interval = float(downloader._delay)
        downloader._delay = 0.0
        for slot in downloader.slots.values():
            slot.delay = 0.0
        logger.info("Shared rate limit: at most one request every %.3f s per host across all workers "
                    "(Redis namespace %s)", self.interval, self.namespace)

    async def spider_closed(self) -> None:
        if self.limiter is not None:
            await self.limiter.client.aclose()

    def _limiter(self) -> HostRateLimiter:
        if self.limiter is None:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            # one attempt per request: while Redis is away the crawl spaces requests itself (no stalls)
            client = redis.asyncio.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5,
                                                  retry=Retry(NoBackoff(), 0))
            self.limiter = HostRateLimiter(client, self.namespace)
        return self.limiter

    async def process_request(self, request: Request) -> None:
        if self.interval <= 0:
            return
        host = urlparse_cached(request).hostname or ""
        gate = self._gates.setdefault(host, asyncio.Semaphore(self.per_host))
        stats = self.crawler.stats
        assert stats is not None
        async with gate:
            wait = await self._limiter().reserve(host, self.interval)
            if wait > 0:
                stats.inc_value("scaleout/rate_limit/waits")
                stats.inc_value("scaleout/rate_limit/wait_ms", round(wait * 1000))
                await asyncio.sleep(wait)
        if self.limiter is not None and self.limiter.redis_errors:
            stats.set_value("scaleout/rate_limit/redis_errors", self.limiter.redis_errors)
