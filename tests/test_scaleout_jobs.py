"""One portal-run job, run in this process against a real Redis with a stand-in crawl (a child process).

The job's decisions: what it drops, when it crawls, what it retries, and that its crawl stops when the lease is
lost or the worker shuts down. The real crawl is in tests/test_scaleout_cluster.py.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from crawler.scaleout.broker import RetryableJobError
from crawler.scaleout.config import ScaleoutConfig
from crawler.scaleout.job import WorkerContext, run_job
from crawler.scaleout.keys import Keys
from crawler.scaleout.lease import PortalLease
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.scaleout


def _context(server: RedisServer, namespace: str, tmp: Path, exit_code: int = 0, seconds: float = 0.0,
             lease_ttl: float = 20.0) -> WorkerContext:
    registry = tmp / "portals.toml"
    registry.write_text('[portals.p1]\nname = "p"\nstart_urls = ["http://127.0.0.1:9/"]\nschedule = "1d"\n',
                        encoding="utf-8")
    config = ScaleoutConfig(namespace=namespace, machine="m1", heartbeat_interval=5, heartbeat_timeout=30,
                            lease_ttl=lease_ttl, max_attempts=3, retry_backoff=60, retry_backoff_max=60,
                            job_time_limit=3600, shutdown_grace=5)
    commands: list[list[str]] = []

    def crawl_command(portal: str, expect: int, settings: list[str]) -> list[str]:
        commands.append([portal, str(expect), *settings])
        return [sys.executable, "-c", f"import sys, time; time.sleep({seconds}); sys.exit({exit_code})"]

    ctx = WorkerContext(client=redis.Redis(host=server.host, port=server.port, decode_responses=True),
                        config=config, worker_id="w1", host="h", registry=registry, archive_root=tmp / "archive",
                        redis_url=server.url, crawl_command=crawl_command)
    ctx.commands = commands  # type: ignore[attr-defined]
    return ctx


def test_a_finished_crawl_is_done_and_carries_token_host_and_limit(redis_server: RedisServer, namespace: str,
                                                                   tmp_path: Path) -> None:
    ctx = _context(redis_server, namespace, tmp_path)
    assert run_job(ctx, "m-1", "p1", 0).outcome == "done"
    (command,) = ctx.commands  # type: ignore[attr-defined]
    assert command[:2] == ["p1", "0"]
    assert {"SCALEOUT_FENCING_TOKEN=1", "WARC_CRAWLHOST=w1~h", "SCALEOUT_RATE_LIMIT_ENABLED=True",
            f"SCALEOUT_NAMESPACE={namespace}"} <= set(command[2:])
    record = ctx.client.hgetall(Keys(namespace).portal("p1"))
    assert (record["job"], record["exit"], record["machine"], record["worker"]) == ("done", "0", "m1", "w1~h")
    assert ctx.client.get(Keys(namespace).lease("p1")) is None  # released


@pytest.mark.parametrize(("portal", "expect"), [("../etc", 0), ("p1", "0"), ("unknown", 0), (None, None)])
def test_malformed_or_unknown_messages_are_dropped(redis_server: RedisServer, namespace: str, tmp_path: Path,
                                                   portal: object, expect: object) -> None:
    ctx = _context(redis_server, namespace, tmp_path)
    assert run_job(ctx, "m-1", portal, expect).outcome == "bad message"
    assert not ctx.commands  # type: ignore[attr-defined]


def test_a_portal_held_by_another_run_is_not_crawled(redis_server: RedisServer, namespace: str,
                                                     tmp_path: Path) -> None:
    ctx = _context(redis_server, namespace, tmp_path)
    other = PortalLease(ctx.client, Keys(namespace), "p1", "w9~elsewhere", ttl=30)
    assert other.acquire() == 1
    result = run_job(ctx, "m-1", "p1", 0)
    assert result.outcome == "duplicate" and "w9~elsewhere" in result.detail
    assert not ctx.commands  # type: ignore[attr-defined]
    with pytest.raises(RetryableJobError, match="lease still held"):  # a redelivery waits for the lease instead
        run_job(ctx, "m-1", "p1", 0)


def test_failed_crawls_are_retried_then_given_up(redis_server: RedisServer, namespace: str, tmp_path: Path) -> None:
    ctx = _context(redis_server, namespace, tmp_path, exit_code=1)
    for _attempt in (1, 2):
        with pytest.raises(RetryableJobError, match="exit 1"):
            run_job(ctx, "m-1", "p1", 0)
    assert run_job(ctx, "m-1", "p1", 0).outcome == "failed"  # the third attempt is the last (SCALEOUT_MAX_ATTEMPTS)
    assert run_job(ctx, "m-1", "p1", 0).outcome == "gave up"  # a fourth delivery never crawls
    assert len(ctx.commands) == 3  # type: ignore[attr-defined]


def test_a_job_of_a_reassigned_portal_is_dropped(redis_server: RedisServer, namespace: str, tmp_path: Path) -> None:
    ctx = _context(redis_server, namespace, tmp_path)
    ctx.client.hset(Keys(namespace).assignments, "p1", "m2")
    assert run_job(ctx, "m-1", "p1", 0).outcome == "reassigned"
    assert not ctx.commands  # type: ignore[attr-defined]


def test_the_crawl_stops_when_the_lease_is_lost(redis_server: RedisServer, namespace: str, tmp_path: Path) -> None:
    ctx = _context(redis_server, namespace, tmp_path, seconds=60, lease_ttl=1.0)
    keys = Keys(namespace)

    def steal() -> None:
        deadline = time.monotonic() + 10
        while ctx.client.get(keys.lease("p1")) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        ctx.client.set(keys.lease("p1"), "7 thief~x")

    thief = threading.Thread(target=steal)
    thief.start()
    started = time.monotonic()
    result = run_job(ctx, "m-1", "p1", 0)
    thief.join()
    assert result.outcome == "lease lost" and "another run" in result.detail
    assert time.monotonic() - started < 10 and result.exit_code is not None and result.exit_code < 0
    assert ctx.client.get(keys.lease("p1")) == "7 thief~x"  # the new holder's lease is left alone


def test_a_worker_shutdown_stops_the_crawl_and_retries_the_job(redis_server: RedisServer, namespace: str,
                                                               tmp_path: Path) -> None:
    ctx = _context(redis_server, namespace, tmp_path, seconds=60)
    threading.Timer(1.0, ctx.shutdown.set).start()
    started = time.monotonic()
    with pytest.raises(RetryableJobError, match="interrupted by the worker's shutdown"):
        run_job(ctx, "m-1", "p1", 0)
    assert time.monotonic() - started < 10
    assert ctx.client.get(Keys(namespace).lease("p1")) is None
