"""Queue workers (docs/scaleout.md): two workers against one on two portals, and the CPU a worker adds per release.

    .venv/bin/python -m benchmarks.scaleout_bench [--releases 300] [--cpu-releases 500]

A private redis-server on a free loopback port (not a shared one: its CPU is measured too). Two simulated portals
on two loopback hosts (127.0.0.1 and 127.0.0.3: each its own host for politeness) at a delay of 0.05 s, so a
portal's crawl is bound by its delay, as real crawls are by theirs:

- **two workers against one**: the wall time from ``run-due --queue`` until both portals are done, with one
  worker (the portals one after the other) and with two workers on two machines (side by side);
- **CPU per release in a worker**: the same portal crawled by a plain ``crawler crawl`` (the whole process) and
  as one job of a running ``crawler worker`` (its crawl child, plus the worker process itself during the job and
  the Redis server meanwhile: heartbeats, lease renewals, one script call per request for the shared rate
  limit), alternately, ROUNDS times each; the lowest of each counts. The worker's own start-up, paid once for
  all its jobs, is not counted. Two targets: the whole job against the plain crawl at the same delay (Scrapy's
  own delay costs CPU that the job's crawl does not pay, the shared limit replacing it; a crawl at delay 0 is
  printed too), and the worker's and Redis's CPU against the job's crawl, a direct measure that CPU noise from
  other processes hardly moves.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import BIN, REPO, BenchmarkError, machine, run_measured, table, verdict
from simulator.process import SimulatorProcess

#: The portals' delay in the speed-up run: their crawls are bound by it, as real crawls are by theirs.
DELAY = 0.05
#: The delay of the CPU run (small: a CPU figure needs no waiting, but every request still takes its slot).
CPU_DELAY = 0.005
FAST = ["--set", "ATTACHMENTS_ENABLED=False", "--set", "REQUISITES_ENABLED=False"]
TARGET_SPEEDUP = 1.5
TARGET_CPU_OVERHEAD = 0.05
#: Rounds of the CPU comparison: CPU time varies by a third between identical runs on a shared machine; the
#: lowest of several alternating runs is the figure least disturbed by other processes.
ROUNDS = 5


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[str]:
    """A redis-server of the benchmark's own on a free loopback port; its URL."""
    import socket

    import redis

    exe = shutil.which("redis-server")
    if exe is None:
        raise BenchmarkError("redis-server is not installed (make bench installs Debian's redis-server package)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise BenchmarkError("the private redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def redis_cpu(url: str) -> float:
    """CPU seconds the Redis server has used so far."""
    import redis

    info = redis.Redis.from_url(url).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def write_registry(path: Path, sims: list[SimulatorProcess], delay: float) -> Path:
    text = ""
    for n, sim in enumerate(sims, 1):
        netloc = sim.base_url.split("/")[2]
        text += (f'[portals.p{n}]\nname = "bench {n}"\nstart_urls = ["{sim.base_url}"]\n'
                 f'allowed_hosts = ["{netloc.split(":")[0]}"]\nallowed_ips = ["{netloc}"]\nschedule = "1d"\n'
                 f"delay = {delay}\nconcurrency = 4\n\n")
    path.write_text(text, encoding="utf-8")
    return path


def _worker(url: str, namespace: str, machine_name: str, root: Path, registry: Path, *extra: str) -> list[str]:
    return [str(BIN / "crawler"), "worker", "--queue", url, "--machine", machine_name, "--portals", str(registry),
            "--archive-root", str(root), "--set", f"SCALEOUT_NAMESPACE={namespace}", *FAST, *extra]


def cluster_wall(url: str, namespace: str, registry: Path, root: Path, workers: int, portals: int) -> float:
    """Seconds from ``run-due --queue`` until every portal's job is done, with ``workers`` workers."""
    import redis

    from crawler.scaleout.keys import Keys

    keys = Keys(namespace)
    client = redis.Redis.from_url(url, decode_responses=True)
    procs = [subprocess.Popen(_worker(url, namespace, f"m{n}", root, registry), cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in range(workers)]
    try:
        deadline = time.monotonic() + 60
        while client.zcard(keys.machines) < workers:
            if time.monotonic() > deadline:
                raise BenchmarkError("the workers did not start")
            time.sleep(0.1)
        started = time.monotonic()
        due = subprocess.run([str(BIN / "crawler"), "run-due", "--queue", url, "--portals", str(registry), "--set",
                              f"SCALEOUT_NAMESPACE={namespace}"], cwd=REPO, capture_output=True, text=True)
        if due.returncode != 0:
            raise BenchmarkError(f"run-due --queue failed:\n{due.stdout}{due.stderr}")
        while not all(client.hget(keys.portal(f"p{n}"), "job") == "done" for n in range(1, portals + 1)):
            if time.monotonic() - started > 600:
                raise BenchmarkError("the portals were not done after 600 s")
            time.sleep(0.1)
        return time.monotonic() - started
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)
        client.close()


def process_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of a live process itself, and of the children it has waited for (``/proc/PID/stat``)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def worker_cpu(url: str, namespace: str, registry: Path, root: Path) -> tuple[float, float]:
    """CPU seconds one job costs a running worker: (its crawl child, the worker process itself during the job plus
    the Redis server meanwhile); the worker's start-up, paid once for many jobs, is left out."""
    import redis

    from crawler.scaleout.broker import make_broker, portal_message
    from crawler.scaleout.keys import Keys
    from crawler.scaleout.redis_url import parse_redis_url

    keys = Keys(namespace)
    client = redis.Redis.from_url(url, decode_responses=True)
    proc = subprocess.Popen(_worker(url, namespace, "cpu", root, registry), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while client.zcard(keys.machines) < 1:
            if time.monotonic() > deadline:
                raise BenchmarkError("the worker did not start")
            time.sleep(0.1)
        time.sleep(1.0)  # settled: polling its queue
        own, crawl = process_cpu(proc.pid)
        before_redis = redis_cpu(url)
        broker = make_broker(parse_redis_url(url), keys, heartbeat_timeout=30, max_retries=0, min_backoff=60,
                             max_backoff=60)
        broker.enqueue(portal_message(keys.queue("cpu"), "p1", 0))
        broker.close()
        while client.hget(keys.portal("p1"), "job") != "done":
            if time.monotonic() - deadline > 600:
                raise BenchmarkError("the worker's job was not done after 600 s")
            time.sleep(0.05)
        own_after, crawl_after = process_cpu(proc.pid)
        return crawl_after - crawl, own_after - own + redis_cpu(url) - before_redis
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        client.close()


def run(work: Path, releases: int = 300, cpu_releases: int = 500) -> dict[str, float]:
    """Both measurements; the TARGET lines."""
    results: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(private_redis(work))
        sims = [stack.enter_context(SimulatorProcess(releases, 31, extra_args=["--asset-host", ""])),
                stack.enter_context(SimulatorProcess(releases, 32, host="127.0.0.3",
                                                     extra_args=["--asset-host", ""]))]
        registry = write_registry(work / "portals.toml", sims, DELAY)
        one = cluster_wall(url, "bench-one", registry, work / "one", workers=1, portals=2)
        two = cluster_wall(url, "bench-two", registry, work / "two", workers=2, portals=2)
        print(f"\n== scaleout: two portals of {releases} releases, delay {DELAY} s, on two hosts ==")
        print(table([["1 worker", one, 2 * releases / one], ["2 workers", two, 2 * releases / two]],
                    ["workers", "wall s", "releases/s"]))
        results["speedup"] = one / two
        print(verdict("two workers against one on two portals (wall time ratio)", one / two, TARGET_SPEEDUP,
                      unit="x"))
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(private_redis(work))
        sim = stack.enter_context(SimulatorProcess(cpu_releases, 33, extra_args=["--asset-host", ""]))
        registry = write_registry(work / "cpu.toml", [sim], CPU_DELAY)
        no_delay = write_registry(work / "cpu-no-delay.toml", [sim], 0.0)
        runs: dict[str, list[float]] = {"same": [], "none": [], "worker": [], "own": []}
        for attempt in range(ROUNDS):
            for key, reg in (("same", registry), ("none", no_delay)):
                runs[key].append(run_measured([str(BIN / "crawler"), "crawl", "--portal", "p1", "--portals", str(reg),
                                               "--out", str(work / f"plain-{key}-{attempt}" / "p1"), *FAST]).cpu)
            crawl, own = worker_cpu(url, f"bench-cpu-{attempt}", registry, work / f"queued-{attempt}")
            runs["worker"].append(crawl + own)
            runs["own"].append(own)
        per = {key: min(values) / cpu_releases * 1000 for key, values in runs.items()}
        print(f"\n== scaleout: CPU per release, {cpu_releases} releases, plain crawls against a worker's job "
              f"({ROUNDS} rounds, alternating; the lowest counts) ==")
        print(table([[f"crawler crawl, delay {CPU_DELAY} s (Scrapy's delay)", per["same"], min(runs["same"]),
                      max(runs["same"])],
                     ["crawler crawl, delay 0 (no politeness)", per["none"], min(runs["none"]), max(runs["none"])],
                     [f"worker job, delay {CPU_DELAY} s (shared limit), all", per["worker"], min(runs["worker"]),
                      max(runs["worker"])],
                     ["  of which the worker process and Redis", per["own"], min(runs["own"]), max(runs["own"])]],
                    ["run", "ms/release", "CPU s lowest", "CPU s highest"]))
        results["cpu_overhead"] = per["worker"] / per["same"] - 1
        results["own_share"] = min(runs["own"]) / (min(runs["worker"]) - min(runs["own"]))
        print(f"ratio worker job / plain crawl with no delay at all: {per['worker'] / per['none']:.2f}")
        print(verdict("CPU per release of a worker's job against a plain crawl of the same portal (overhead)",
                      100 * results["cpu_overhead"], 100 * TARGET_CPU_OVERHEAD, at_most=True, unit="%"))
        print(verdict("CPU of the worker process and Redis during a job, against the job's crawl",
                      100 * results["own_share"], 100 * TARGET_CPU_OVERHEAD, at_most=True, unit="%"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=300, help="releases of each portal of the speed-up run")
    parser.add_argument("--cpu-releases", type=int, default=500, help="releases of the CPU run's portal")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    try:
        run(work, args.releases, args.cpu_releases)
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
