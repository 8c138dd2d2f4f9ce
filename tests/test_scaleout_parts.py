"""The scaleout parts one at a time, each against a real Redis (or real SQLite, real processes).

Lease and fencing token, the shared per-host rate limit (GCRA), stickiness, the Redis URL check, the crawl
child that dies with its parent, and Dramatiq's dead-worker requeue as configured here.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from crawler.recurring.fencing import Fenced, install_fence, is_fence_abort, newest_token
from crawler.scaleout import child
from crawler.scaleout.assign import assign, live_machines, machine_of
from crawler.scaleout.config import check_timings
from crawler.scaleout.keys import Keys
from crawler.scaleout.lease import LeaseKeeper, PortalLease, current_holder
from crawler.scaleout.ratelimit import HostRateLimiter
from crawler.scaleout.redis_url import PASSWORD_ENV, RedisUrlError, parse_redis_url
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.scaleout
REPO = Path(__file__).resolve().parent.parent


def _client(server: RedisServer) -> redis.Redis:
    return redis.Redis(host=server.host, port=server.port, decode_responses=True)


# -- lease and fencing token ----------------------------------------------------------------------------------

def test_lease_is_exclusive_and_tokens_only_grow(redis_server: RedisServer, namespace: str) -> None:
    client, keys = _client(redis_server), Keys(namespace)
    first = PortalLease(client, keys, "p1", "w1~a", ttl=0.3)
    second = PortalLease(client, keys, "p1", "w2~b", ttl=5)
    assert first.acquire() == 1
    assert second.acquire() is None and second.held_by is not None and second.held_by.holder == "w1~a"
    assert first.renew()
    time.sleep(0.45)  # first's lease expires: a paused or partitioned holder
    assert second.acquire() == 2
    assert not first.renew() and not first.release()  # the stale holder can neither extend nor delete it
    holder = current_holder(client, keys, "p1")
    assert holder is not None and (holder.token, holder.holder) == (2, "w2~b")
    assert second.release() and current_holder(client, keys, "p1") is None
    third = PortalLease(client, keys, "p1", "w3~c", ttl=5)
    assert third.acquire(floor=40) == 41  # a Redis that lost the counter still hands out newer tokens
    third.release()
    assert PortalLease(client, keys, "p1", "w3~c", ttl=5).acquire() == 42


def test_lease_keeper_says_when_the_lease_is_lost(redis_server: RedisServer, namespace: str) -> None:
    client, keys = _client(redis_server), Keys(namespace)
    lease = PortalLease(client, keys, "p1", "w1~a", ttl=0.4)
    lease.acquire()
    keeper = LeaseKeeper(lease)
    deadline = time.monotonic() + 1.2
    while time.monotonic() < deadline:  # three TTLs, renewed every TTL/4
        assert keeper.tick(), keeper.lost
        time.sleep(0.02)
    client.set(keys.lease("p1"), "99 someone-else")
    time.sleep(keeper.interval)
    assert not keeper.tick() and "another run" in keeper.lost


def test_fencing_token_refuses_an_older_holder_inside_sqlite(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "state.sqlite"
    stale = sqlite3.connect(path, isolation_level=None)
    stale.execute("CREATE TABLE runs (run_id INTEGER PRIMARY KEY, portal TEXT)")
    install_fence(stale, "p1", 5, "w1~a")
    stale.execute("INSERT INTO runs (portal) VALUES ('p1')")
    newer = sqlite3.connect(path, isolation_level=None)
    install_fence(newer, "p1", 6, "w2~b")
    with pytest.raises(sqlite3.DatabaseError) as caught:
        stale.execute("INSERT INTO runs (portal) VALUES ('p1')")
    assert is_fence_abort(caught.value)
    with pytest.raises(sqlite3.DatabaseError):
        stale.execute("UPDATE runs SET portal = 'x'")
    newer.execute("INSERT INTO runs (portal) VALUES ('p1')")  # the newer holder writes on
    assert [r[0] for r in newer.execute("SELECT run_id FROM runs")] == [1, 2]
    with pytest.raises(Fenced):
        install_fence(sqlite3.connect(path, isolation_level=None), "p1", 5)
    assert newest_token(path, "p1") == 6 and newest_token(path, "other") == 0
    assert newest_token(tmp_path / "missing.sqlite", "p1") == 0


# -- shared per-host rate limit -----------------------------------------------------------------------------------

def test_gcra_spaces_two_crawls_to_one_host_by_the_interval(redis_server: RedisServer, namespace: str) -> None:
    """Two limiters (two crawls) reserving at once: the slots they get are one interval apart, by Redis's clock."""
    import redis.asyncio

    interval, each = 0.02, 25

    async def crawl(limiter: HostRateLimiter, starts: list[float]) -> None:
        for _ in range(each):
            wait = await limiter.reserve("files.example.gov.cn", interval)
            await asyncio.sleep(wait)
            starts.append(time.monotonic())

    async def main() -> list[float]:
        clients = [redis.asyncio.Redis(host=redis_server.host, port=redis_server.port) for _ in range(2)]
        starts: list[float] = []
        await asyncio.gather(*(crawl(HostRateLimiter(c, namespace), starts) for c in clients))
        for c in clients:
            await c.aclose()
        return sorted(starts)

    starts = asyncio.run(main())
    rate = (len(starts) - 1) / (starts[-1] - starts[0])
    assert rate <= 1.05 / interval, f"{rate:.1f} requests/s for a limit of {1 / interval:.0f}"
    assert rate >= 0.8 / interval, f"{rate:.1f} requests/s: the limiter held the crawls back too much"


def test_rate_limit_falls_back_to_local_spacing_without_redis(namespace: str) -> None:
    import redis.asyncio

    async def main() -> list[float]:
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        client = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
        limiter = HostRateLimiter(client, namespace)
        waits = [await limiter.reserve("h", 0.5) for _ in range(3)]
        assert limiter.redis_errors == 1  # then it spaces requests on its own for a while
        await client.aclose()
        return waits

    waits = asyncio.run(main())
    assert waits[0] < 0.1 and 0.3 < waits[1] < 0.55 and 0.8 < waits[2] < 1.05


# -- stickiness -------------------------------------------------------------------------------------------------

def test_new_portals_go_to_the_least_loaded_live_machine_and_stay(redis_server: RedisServer, namespace: str) -> None:
    client, keys = _client(redis_server), Keys(namespace)
    assert assign(client, keys, "p1", live_window=30) is None  # no machine has beaten yet
    now_ms = int(client.time()[0]) * 1000
    client.zadd(keys.machines, {"m1": now_ms, "m2": now_ms, "gone": now_ms - 600_000})
    placed = [assign(client, keys, f"p{i}", live_window=30) for i in range(1, 5)]
    assert sorted(placed) == ["m1", "m1", "m2", "m2"]  # never the machine that stopped beating
    client.zadd(keys.machines, {"m1": now_ms - 600_000})  # m1 is gone: its portals stay with it
    assert assign(client, keys, "p1", live_window=30) == machine_of(client, keys, "p1") == placed[0]
    assert assign(client, keys, "p9", live_window=30) == "m2"
    assert [m for m, age in live_machines(client, keys, 30) if age <= 30] == ["m2"]


# -- the --queue URL ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["http://127.0.0.1:6379", "redis://", "redis://host:99999", "redis://h/x",
                                   "127.0.0.1:6379", "redis://h:6379/0 extra", ""])
def test_malformed_queue_urls_are_one_line_errors(value: str) -> None:
    with pytest.raises(RedisUrlError) as caught:
        parse_redis_url(value)
    message = str(caught.value)
    assert "\n" not in message and "--queue expects redis://" in message


def test_queue_url_password_is_masked_and_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    url = parse_redis_url("rediss://app:s3cret@redis.internal:6380/2")
    assert (url.host, url.port, url.db) == ("redis.internal", 6380, 2) and "s3cret" not in url.shown
    monkeypatch.setenv(PASSWORD_ENV, "p@ss word")
    url = parse_redis_url("redis://127.0.0.1:6379/0")
    assert url.url == "redis://:p%40ss%20word@127.0.0.1:6379/0" and url.shown == "redis://127.0.0.1:6379/0"


def test_unreachable_redis_is_a_one_line_error() -> None:
    from tests.support.redis_server import free_port

    url = parse_redis_url(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(RedisUrlError) as caught:
        url.connect(timeout=2)
    assert str(caught.value).startswith("cannot reach Redis at redis://127.0.0.1:") and "\n" not in str(caught.value)


# -- the crawl dies with its worker ---------------------------------------------------------------------------

def test_child_dies_with_its_parent_even_after_kill_9(tmp_path: Path) -> None:
    """A parent (the worker) spawns a long child the way jobs do, then is killed with SIGKILL."""
    script = ("import sys, time; from crawler.scaleout import child; "
              "p = child.spawn([sys.executable, '-c', 'import time; time.sleep(120)']); "
              "print(p.pid, flush=True); time.sleep(120)")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert parent.stdout is not None
    kid = int(parent.stdout.readline())
    assert Path(f"/proc/{kid}").exists() and os.getpgid(kid) == kid  # a process group of its own
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while _alive(kid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(kid), "the child outlived its killed parent"


def test_child_stop_terminates_the_group() -> None:
    proc = child.spawn([sys.executable, "-c", "import time; time.sleep(60)"])
    started = time.monotonic()
    assert child.stop(proc, grace=5) == -signal.SIGTERM and time.monotonic() - started < 5


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# -- dead-worker requeue ---------------------------------------------------------------------------------------

def test_default_timings_bound_the_requeue_under_two_minutes() -> None:
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    interval, timeout, ttl = (settings.getfloat(f"SCALEOUT_{n}") for n in
                              ("HEARTBEAT_INTERVAL", "HEARTBEAT_TIMEOUT", "LEASE_TTL"))
    check_timings(interval, timeout, ttl)
    assert timeout + interval <= 120 and ttl < timeout - interval
    with pytest.raises(ValueError, match="at most 120 s"):
        check_timings(10, 115, 20)
    with pytest.raises(ValueError, match="SCALEOUT_LEASE_TTL"):
        check_timings(5, 30, 28)


def test_a_killed_consumer_s_message_is_requeued_after_the_heartbeat_timeout(redis_server: RedisServer,
                                                                            namespace: str) -> None:
    """Dramatiq as configured here: worker A fetches the message and dies; B's heartbeats requeue it."""
    from crawler.scaleout.broker import Heartbeat, make_broker, portal_message
    from crawler.scaleout.redis_url import parse_redis_url

    keys, queue = Keys(namespace), Keys.queue("m1")
    url = parse_redis_url(redis_server.url)
    fetcher = ("import sys, time; from crawler.scaleout.broker import make_broker; "
               "from crawler.scaleout.keys import Keys; from crawler.scaleout.redis_url import parse_redis_url; "
               "b = make_broker(parse_redis_url(sys.argv[1]), Keys(sys.argv[2]), heartbeat_timeout=3, "
               "max_retries=0, min_backoff=1, max_backoff=1); c = b.consume(sys.argv[3], prefetch=1); "
               "m = next(m for m in c if m is not None); print(m.kwargs['portal'], flush=True); time.sleep(60)")
    broker = make_broker(url, keys, heartbeat_timeout=3, max_retries=0, min_backoff=1, max_backoff=1)
    client = _client(redis_server)
    broker.enqueue(portal_message(queue, "p1", 0))
    worker_a = subprocess.Popen([sys.executable, "-c", fetcher, redis_server.url, namespace, queue],
                                stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert worker_a.stdout is not None and worker_a.stdout.readline().strip() == "p1"
    assert client.llen(keys.queue_key("m1")) == 0  # fetched: in worker A's acks, not on the queue
    worker_a.send_signal(signal.SIGKILL)
    worker_a.wait()
    worker_a.stdout.close()
    killed = time.monotonic()
    beat = Heartbeat(broker, keys, "m1", "w-b", queue, interval=1, client=client)
    beat.start()
    try:
        while client.llen(keys.queue_key("m1")) == 0 and time.monotonic() - killed < 15:
            time.sleep(0.1)
        requeued = time.monotonic() - killed
    finally:
        beat.stop()
        beat.join()
        broker.close()
    assert client.llen(keys.queue_key("m1")) == 1, "the dead worker's message never came back"
    assert 2.0 <= requeued <= 3 + 1 + 1, f"requeued after {requeued:.1f} s (timeout 3 s, heartbeat every 1 s)"
