"""The Dramatiq broker of the portal-run queue: Redis, JSON messages, explicit heartbeats, dead-worker requeue.

How Dramatiq's Redis broker (2.2) finds dead workers, read from ``dramatiq/brokers/redis/dispatch.lua``:

- every broker command (enqueue, fetch, ack, qsize, …) first runs ``ZADD {ns}:__heartbeats__ now broker_id``;
  a fetched message sits in ``{ns}:__acks__.{broker_id}.{queue}`` until it is acked;
- a command runs *maintenance* with the chance ``maintenance_chance`` / 1,000,000 (1,000 by default: 0.1%),
  never on ack/nack, and only for the queue it names: every broker whose last heartbeat is older than
  ``heartbeat_timeout`` (60 s by default) is dead, and its unacked messages of that queue go back on the queue.

Left alone, neither bound holds for long crawls: a worker busy with its one prefetched message fetches nothing,
so its heartbeats only come from the delay-queue consumer's polls, and the survivors' maintenance runs on
one command in a thousand. Here:

- ``Heartbeat`` beats every ``SCALEOUT_HEARTBEAT_INTERVAL`` seconds from a thread of its own, whatever the job
  is doing (the crawl runs in a child process, so nothing holds this process's GIL for long): one ``qsize``
  command per queue of the worker (its queue and the queue's delay queue);
- ``QueueBroker`` runs maintenance on exactly those heartbeat commands and on no other, so each live worker
  requeues dead workers' messages of its own queue every interval, at a cost that does not grow with traffic;
- a dead worker's job is back on the queue at most ``heartbeat_timeout + interval`` after its last heartbeat,
  30 + 5 s with the defaults, while any other worker of its machine is alive (``check_timings`` in
  ``crawler.scaleout.config`` refuses settings that break the 120 s bound).

Messages are JSON (``dramatiq.JSONEncoder``), never pickle: a message from Redis is data, and the job checks
its two arguments against the local portal registry.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.encoder import JSONEncoder
from dramatiq.middleware import CurrentMessage, Retries, TimeLimit

from crawler.scaleout.assign import redis_now_ms

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from crawler.scaleout.keys import Keys
    from crawler.scaleout.redis_url import RedisUrl

logger = logging.getLogger(__name__)

#: The actor every portal-run message names.
ACTOR_NAME = "run_portal"
class RetryableJobError(dramatiq.Retry):
    """A job that should run again later (crawl failed or was interrupted); Dramatiq's Retries re-enqueue it,
    after the backoff or after ``delay`` milliseconds, and log it as a retry, not as an error with a traceback."""


class QueueBroker(RedisBroker):
    """A RedisBroker whose maintenance runs on the explicit heartbeats of this process, and only there."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]  # dramatiq types the class, not __init__
        self._maintaining = threading.local()

    def _should_do_maintenance(self, command: str) -> int:
        return int(bool(getattr(self._maintaining, "on", False)))

    def heartbeat(self, queues: Iterable[str]) -> None:
        """Write this broker's heartbeat and requeue dead workers' unacked messages of ``queues``."""
        self._maintaining.on = True
        try:
            for queue in queues:
                self.do_qsize(queue)
        finally:
            self._maintaining.on = False


def make_broker(url: RedisUrl, keys: Keys, *, heartbeat_timeout: float, max_retries: int,
                min_backoff: float, max_backoff: float) -> QueueBroker:
    """The broker (also made the global one, as Dramatiq's actors and Worker expect)."""
    dramatiq.set_encoder(JSONEncoder())
    middleware = [CurrentMessage(), TimeLimit(),
                  Retries(max_retries=max_retries, min_backoff=round(min_backoff * 1000),
                          max_backoff=round(max_backoff * 1000))]
    broker = QueueBroker(url=url.url, namespace=keys.dramatiq, middleware=middleware,
                         heartbeat_timeout=round(heartbeat_timeout * 1000))
    dramatiq.set_broker(broker)
    return broker


def declare_actor(broker: QueueBroker, queue: str, fn: Callable[..., Any], *, time_limit: float,
                  max_retries: int) -> dramatiq.Actor[Any, Any]:
    """The portal-run actor on this machine's queue: one time limit for the longest crawl, bounded retries
    (only for RetryableJobError)."""
    return dramatiq.Actor(
        fn, broker=broker, actor_name=ACTOR_NAME, queue_name=queue, priority=0,
        options={"time_limit": round(time_limit * 1000), "max_retries": max_retries,
                 "retry_when": lambda retries, exc: isinstance(exc, RetryableJobError) and retries < max_retries})


def portal_message(queue: str, portal: str, expect_last_run: int) -> dramatiq.Message[Any]:
    """The message that asks the machine of ``queue`` to run ``portal``."""
    return dramatiq.Message(queue_name=queue, actor_name=ACTOR_NAME, args=(),
                            kwargs={"portal": portal, "expect_last_run": int(expect_last_run)}, options={})


class Heartbeat(threading.Thread):
    """Beats for the worker every ``interval`` seconds (see the module docstring) and keeps the machine listed
    as live (``{ns}:machines``, scored with Redis's clock, read by ``run-due --queue`` to assign new portals)."""

    def __init__(self, broker: QueueBroker, keys: Keys, machine: str, worker: str, queue: str,
                 interval: float, client: Any) -> None:
        super().__init__(name="scaleout-heartbeat", daemon=True)
        self.broker, self.keys, self.machine, self.worker = broker, keys, machine, worker
        self.queues = (queue, f"{queue}.DQ")
        self.interval = interval
        self.client = client
        self.stopped = threading.Event()
        self.beats = 0

    def beat(self) -> None:
        """One heartbeat: Dramatiq's (with maintenance) and the machine's."""
        self.broker.heartbeat(self.queues)
        self.client.zadd(self.keys.machines, {self.machine: redis_now_ms(self.client)})
        self.beats += 1

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.beat()
            except Exception as exc:  # Redis away: keep beating; the consumers log their own errors
                logger.warning("heartbeat failed: %s", exc)
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
