"""``crawler worker --queue redis://…``: run portal-run jobs from this machine's queue, one at a time.

One process = one Dramatiq ``Worker`` with one worker thread and a prefetch of 1 on ``runs-{machine}``: it
holds at most one message, the one it is crawling, so a second process on the same machine (or a restarted
one) takes the next job, and a dead process strands no queued work. The heartbeat thread keeps the process
(and its machine) listed as live and requeues the jobs of dead workers of this machine's queue
(``crawler.scaleout.broker``). SIGTERM or SIGINT: stop taking jobs, stop the running crawl (SIGTERM, then
SIGKILL after ``SCALEOUT_SHUTDOWN_GRACE``) and leave its job to be retried.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.middleware import CurrentMessage, Middleware

from crawler.scaleout.broker import Heartbeat, declare_actor, make_broker
from crawler.scaleout.job import JobResult, WorkerContext, run_job

if TYPE_CHECKING:
    from crawler.scaleout.config import ScaleoutConfig
    from crawler.scaleout.redis_url import RedisUrl

logger = logging.getLogger("crawler.scaleout")

#: Milliseconds an idle consumer waits between polls of its queue (Dramatiq's ``worker_timeout``).
POLL_MS = 1000


@dataclass(frozen=True)
class WorkerOptions:
    """The worker command's options, checked."""

    url: RedisUrl
    config: ScaleoutConfig
    worker_id: str
    host: str
    registry: Path
    archive_root: Path
    overrides: list[str]
    crawl_command: Callable[[str, int, list[str]], list[str]]
    max_jobs: int = 0


class _JobCounter(Middleware):
    """Counts finished messages; after ``max_jobs`` (0: never) takes no more and asks the worker to stop."""

    def __init__(self, max_jobs: int, stop: threading.Event) -> None:
        self.max_jobs, self.stop, self.done = max_jobs, stop, 0
        self.worker: dramatiq.Worker | None = None

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        self.done += 1
        if self.max_jobs and self.done >= self.max_jobs:
            if self.worker is not None:  # no next job: a message fetched meanwhile is requeued by stop()
                for consumer in self.worker.consumers.values():
                    consumer.pause()
                for thread in self.worker.workers:
                    thread.stop()
            self.stop.set()

    after_skip_message = after_process_message


def run_worker(options: WorkerOptions) -> int:
    """Serve jobs until SIGTERM/SIGINT (or ``max_jobs``); 0 on a clean stop."""
    config, keys = options.config, options.config.keys
    client = options.url.connect(decode_responses=True)
    broker = make_broker(options.url, keys, heartbeat_timeout=config.heartbeat_timeout,
                         max_retries=config.max_retries, min_backoff=config.retry_backoff,
                         max_backoff=config.retry_backoff_max)
    stop = threading.Event()
    ctx = WorkerContext(client=client, config=config, worker_id=options.worker_id, host=options.host,
                        registry=options.registry, archive_root=options.archive_root, redis_url=options.url.url,
                        crawl_command=options.crawl_command, overrides=list(options.overrides))
    counter = _JobCounter(options.max_jobs, stop)
    broker.add_middleware(counter)

    def portal_run(portal: Any = None, expect_last_run: Any = None) -> None:
        message = CurrentMessage.get_current_message()
        message_id = message.message_id if message is not None else "unknown"
        result: JobResult = run_job(ctx, message_id, portal, expect_last_run)
        logger.debug("job %s: %s", message_id, result.outcome)

    queue = keys.queue(config.machine)
    declare_actor(broker, queue, portal_run, time_limit=config.job_time_limit, max_retries=config.max_retries)
    heartbeat = Heartbeat(broker, keys, config.machine, ctx.holder, queue, config.heartbeat_interval, client)
    heartbeat.beat()  # listed as live before the first poll
    worker = dramatiq.Worker(broker, queues={queue}, worker_threads=1, worker_timeout=POLL_MS)
    worker.queue_prefetch = 1  # at most the one message being crawled
    worker.delay_prefetch = 100  # retries waiting for their backoff: timers, not work
    counter.worker = worker

    def on_signal(signum: int, _frame: Any) -> None:
        logger.info("worker %s: %s: stopping", ctx.holder, signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logger.info("worker %s: machine %s, queue %s, namespace %s, archive %s", ctx.holder, config.machine, queue,
                config.namespace, options.archive_root)
    heartbeat.start()
    worker.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        ctx.shutdown.set()  # a running crawl is stopped and its job retried (crawler.scaleout.job)
        worker.stop(timeout=round((config.shutdown_grace + 30) * 1000))
        heartbeat.stop()
        heartbeat.join(timeout=5)
        broker.close()
        logger.info("worker %s: stopped", ctx.holder)
    return 0


def configure_logging() -> None:
    """Our lines to standard output, one per event; Dramatiq's warnings and errors to standard error."""
    ours = logging.getLogger("crawler.scaleout")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    ours.propagate = False
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
