"""Queue workers crawling simulated portals over loopback, coordinated by a real Redis (docs/scaleout.md).

1. Two workers, three portals, ``kill -9`` of a worker mid-portal: its crawl dies with it, its job is resumed
   within 120 s (the default heartbeat settings), and every portal ends with each release exactly once and a
   clean ``crawler verify``.
2. Two jobs for one portal on two machines: one crawls, the other ends without crawling and says so.
3. Two workers crawling two portals on one host: the combined request rate the host sees stays within 5% of
   the portal's delay.
4. A crawl whose lease token is overtaken mid-run (a newer holder records its token in the portal's state)
   commits nothing more and stops.
5. SIGTERM of a worker mid-crawl: the crawl stops, and Dramatiq's retry runs the job on the next worker.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from crawler.scaleout.broker import make_broker, portal_message
from crawler.scaleout.keys import Keys
from crawler.scaleout.redis_url import parse_redis_url
from tests.support.cluster import (
    FAST,
    Worker,
    alive,
    portals,
    processes_mentioning,
    start_worker,
    wait_for,
    write_registry,
)
from tests.support.common import BIN, REPO, load_truth, read_jsonl, run_cli
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.scaleout


def _client(server: RedisServer) -> redis.Redis:
    return redis.Redis(host=server.host, port=server.port, decode_responses=True)


def _job(client: redis.Redis, keys: Keys, portal: str) -> str:
    return str(client.hget(keys.portal(portal), "job") or "")


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stop_all(workers: list[Worker], namespace: str) -> None:
    for worker in workers:
        worker.stop()
    leftovers = processes_mentioning(f"SCALEOUT_NAMESPACE={namespace}")
    assert not leftovers, f"processes of this test still running: {leftovers}"


def test_kill_9_of_a_worker_mid_portal(redis_server: RedisServer, namespace: str, tmp_path: Path) -> None:
    client, keys = _client(redis_server), Keys(namespace)
    root, logs = tmp_path / "archive", tmp_path
    with portals(3, 40, tmp_path) as sims:
        registry = write_registry(tmp_path / "portals.toml", sims, delay=0.05)
        start = [start_worker(f"w{n}", redis_server.url, namespace, "m1", root, registry, logs) for n in (1, 2)]
        workers = list(start)
        try:
            wait_for(lambda: client.zscore(keys.machines, "m1") is not None, 30, "the workers' first heartbeat")
            queued = run_cli("run-due", "--queue", redis_server.url, "--portals", str(registry),
                             "--set", f"SCALEOUT_NAMESPACE={namespace}", timeout=60)
            assert queued.returncode == 0 and queued.stdout.count("queued on m1") == 3, queued.stdout + queued.stderr

            def victim() -> tuple[Worker, str, int] | None:
                for worker in start:
                    for portal in sims:
                        pid = worker.crawl_pid(portal.id)
                        rows = root / portal.id / "releases.jsonl"
                        if pid and rows.exists() and rows.read_bytes().count(b"\n") >= 5:
                            return worker, portal.id, pid
                return None

            wait_for(lambda: victim() is not None, 90, "a crawl with some releases archived")
            found = victim()
            assert found is not None
            worker, portal_id, crawl_pid = found
            assert alive(crawl_pid)
            worker.kill9()
            killed = time.monotonic()
            wait_for(lambda: not alive(crawl_pid), 5, f"the killed worker's crawl {crawl_pid} to die with it")
            workers.append(start_worker("w3", redis_server.url, namespace, "m1", root, registry, logs))  # systemd

            def resumed() -> bool:
                return any(w.crawl_pid(portal_id) not in (None, crawl_pid) for w in workers if w is not worker)

            wait_for(resumed, 125, f"the job of {portal_id} to be resumed by another worker")
            resumed_after = time.monotonic() - killed
            wait_for(lambda: all(_job(client, keys, p.id) == "done" for p in sims), 180, "every portal done")
            truths = {p.id: load_truth(p.releases, p.seed, p.sim.base_url, _mkdir(tmp_path / p.id)) for p in sims}
        finally:
            _stop_all(workers, namespace)
    assert resumed_after <= 120, f"the dead worker's job was resumed after {resumed_after:.0f} s"
    print(f"job of the killed worker resumed after {resumed_after:.1f} s")
    for portal in sims:
        out = root / portal.id
        rows = read_jsonl(out / "releases.jsonl")
        ids = Counter(row["release_id"] for row in rows)
        assert not [rid for rid, n in ids.items() if n > 1], f"{portal.id}: releases written twice"
        assert {row["url"] for row in rows} == set(truths[portal.id]), f"{portal.id}: releases missing"
        check = run_cli("verify", str(out), timeout=120)
        assert check.returncode == 0, f"{portal.id}: {check.stdout[-2000:]}{check.stderr[-2000:]}"
        warcs = [path.name for path in (out / "warc").glob("*.warc.gz")]
        assert warcs and all(re.search(r"-\d{5}-w\d~[A-Za-z0-9.-]+\.warc\.gz$", n) for n in warcs), warcs
        token = int(str(client.hget(keys.portal(portal.id), "token")))
        fence = sqlite3.connect(out / "state.sqlite").execute("SELECT token FROM scaleout_fence").fetchone()
        assert fence == (token,), f"{portal.id}: the state did not record the lease's fencing token"
    assert any("attempt 2" in w.text() for w in workers), "the resumed job was not counted as a second attempt"


def test_two_jobs_for_one_portal_never_crawl_at_once(redis_server: RedisServer, namespace: str,
                                                     tmp_path: Path) -> None:
    """The same portal queued on two machines at once (two archive roots: only the Redis lease is shared)."""
    client, keys = _client(redis_server), Keys(namespace)
    with portals(1, 40, tmp_path) as sims:
        registry = write_registry(tmp_path / "portals.toml", sims, delay=0.05)
        workers = [start_worker(f"d{n}", redis_server.url, namespace, f"m{n}", tmp_path / f"root{n}", registry,
                                tmp_path) for n in (1, 2)]
        try:
            wait_for(lambda: client.zcard(keys.machines) == 2, 30, "both workers' first heartbeat")
            broker = make_broker(parse_redis_url(redis_server.url), keys, heartbeat_timeout=30, max_retries=0,
                                 min_backoff=60, max_backoff=60)
            for machine in ("m1", "m2"):
                broker.enqueue(portal_message(keys.queue(machine), "p1", 0))
            broker.close()
            wait_for(lambda: all("portal p1:" in w.text() and ("done" in w.text() or "not crawled" in w.text())
                                 for w in workers), 120, "both jobs to end")
        finally:
            _stop_all(workers, namespace)
    crawled = [w for w in workers if "portal p1: crawling" in w.text()]
    refused = [w for w in workers if "portal p1: not crawled: another run holds it (token 1" in w.text()]
    assert len(crawled) == 1 and len(refused) == 1, [w.text() for w in workers]
    assert not (refused[0].root / "p1" / "releases.jsonl").exists()  # it wrote nothing
    rows = read_jsonl(crawled[0].root / "p1" / "releases.jsonl")
    assert len(rows) == len({r["release_id"] for r in rows}) == 40


def test_combined_rate_to_a_shared_host_stays_within_5_percent(redis_server: RedisServer, namespace: str,
                                                               tmp_path: Path) -> None:
    """Two portals on one host (127.0.0.1), crawled by two workers on two machines, delay 0.1 s: at most
    10 requests/s together, as measured by the two simulators."""
    client, keys = _client(redis_server), Keys(namespace)
    delay = 0.1
    with portals(2, 40, tmp_path, timed=True) as sims:
        registry = write_registry(tmp_path / "portals.toml", sims, delay=delay)
        workers = [start_worker(f"r{n}", redis_server.url, namespace, f"m{n}", tmp_path / "archive", registry,
                                tmp_path) for n in (1, 2)]
        try:
            wait_for(lambda: client.zcard(keys.machines) == 2, 30, "both workers' first heartbeat")
            broker = make_broker(parse_redis_url(redis_server.url), keys, heartbeat_timeout=30, max_retries=0,
                                 min_backoff=60, max_backoff=60)
            for machine, portal in zip(("m1", "m2"), sims, strict=True):
                broker.enqueue(portal_message(keys.queue(machine), portal.id, 0))
            broker.close()
            wait_for(lambda: all(_job(client, keys, p.id) == "done" for p in sims), 120, "both portals done")
        finally:
            _stop_all(workers, namespace)
        times = [p.request_times() for p in sims]
    both_from, both_until = max(t[0] for t in times), min(t[-1] for t in times)
    window = sorted(t for ts in times for t in ts if both_from <= t <= both_until)
    assert both_until - both_from >= 4 and len(window) >= 40, "the two crawls hardly overlapped"
    rate = (len(window) - 1) / (window[-1] - window[0])
    print(f"combined rate to 127.0.0.1: {rate:.2f} requests/s over {window[-1] - window[0]:.1f} s "
          f"(setting {1 / delay:.0f}/s)")
    assert 0.95 / delay <= rate <= 1.05 / delay, f"{rate:.2f} requests/s; the setting is {1 / delay:.0f}/s"


def test_a_crawl_fenced_out_mid_run_stops_and_commits_nothing_more(tmp_path: Path) -> None:
    """A run holding token 3 while a newer holder records token 7 in the portal's state: its next checkpoint is
    refused inside SQLite, and it stops (exit 4) without another write to the state."""
    from crawler.recurring.fencing import install_fence

    out = tmp_path / "p1"
    with portals(1, 40, tmp_path) as sims:
        registry = write_registry(tmp_path / "portals.toml", sims, delay=0.1)
        crawl = subprocess.Popen([str(BIN / "crawler"), "crawl", "--portal", "p1", "--portals", str(registry),
                                  "--out", str(out), "--set", "SCALEOUT_FENCING_TOKEN=3", *FAST],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
        try:
            state = out / "state.sqlite"

            def applied() -> int:
                if not state.exists():
                    return 0
                return int(sqlite3.connect(state).execute("SELECT count(*) FROM releases").fetchone()[0])

            wait_for(lambda: applied() >= 3, 60, "the crawl's first checkpoints")
            newer = sqlite3.connect(state, isolation_level=None, timeout=30)
            install_fence(newer, "p1", 7, "w9~elsewhere")
            fenced_at = newer.execute("SELECT count(*) FROM releases").fetchone()[0]
            stdout, _ = crawl.communicate(timeout=120)
        finally:
            if crawl.poll() is None:
                crawl.kill()
                crawl.wait()
    assert crawl.returncode == 4, stdout
    assert "NOT RUN: a run with a newer lease token holds this portal" in stdout
    assert applied() == fenced_at < 40, "the fenced run committed after the newer token was recorded"
    outcome = sqlite3.connect(state).execute("SELECT outcome FROM runs").fetchall()
    assert outcome == [(None,)], "the fenced run recorded an outcome over the newer holder's state"


def test_sigterm_stops_the_crawl_and_its_job_runs_again(redis_server: RedisServer, namespace: str,
                                                        tmp_path: Path) -> None:
    """A worker stopped with SIGTERM mid-crawl stops its crawl and leaves the job to Dramatiq's retry, which the
    next worker of the machine runs at once (attempt 2)."""
    client, keys = _client(redis_server), Keys(namespace)
    root = tmp_path / "archive"
    with portals(1, 40, tmp_path) as sims:
        registry = write_registry(tmp_path / "portals.toml", sims, delay=0.1)
        first = start_worker("t1", redis_server.url, namespace, "m1", root, registry, tmp_path)
        workers = [first]
        try:
            wait_for(lambda: client.zscore(keys.machines, "m1") is not None, 30, "the worker's first heartbeat")
            broker = make_broker(parse_redis_url(redis_server.url), keys, heartbeat_timeout=30, max_retries=3,
                                 min_backoff=60, max_backoff=60)
            broker.enqueue(portal_message(keys.queue("m1"), "p1", 0))
            broker.close()
            wait_for(lambda: first.crawl_pid("p1") is not None, 60, "the crawl to start")
            crawl_pid = first.crawl_pid("p1")
            assert crawl_pid is not None
            first.stop()  # SIGTERM
            assert first.proc.returncode == 0 and not alive(crawl_pid), first.text()
            assert client.get(keys.lease("p1")) is None, "the stopped job kept its lease"
            workers.append(start_worker("t2", redis_server.url, namespace, "m1", root, registry, tmp_path))
            wait_for(lambda: "portal p1: crawling" in workers[1].text() and "attempt 2" in workers[1].text(), 60,
                     "the retried job on the next worker")
        finally:
            _stop_all(workers, namespace)
    assert "Traceback" not in first.text(), "a retried job is logged as a retry, not as an error"
