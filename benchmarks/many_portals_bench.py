"""Many portals on one machine (issue 16): N portals at the polite default delay, crawled by ``run-due``.

One process serves N simulated portals, each on a loopback address of its own (benchmarks/many_portals_server.py),
and ``crawler run-due --parallel N`` crawls them all at once over one crawl process per core (``crawl-batch``),
with the default ``DOWNLOAD_DELAY`` of the registry (1 s per host). For each N the table gives the requests per
second achieved against N, the mean per-portal rate against the rate of one portal crawled alone in the same run,
the CPU share and the CPU per request of the crawl processes, their total peak RSS, and whether every release was
archived. The portal server runs on the same two cores: at the top of the curve it competes with the crawl.

    .venv/bin/python -m benchmarks.many_portals_bench [--sizes 50,100,200,300] [--releases 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import BIN, REPO, BenchmarkError, machine, table, verdict
from benchmarks.many_portals_server import address

SIZES = (50, 100, 200, 300)
#: Target: at N = 300 each portal keeps (nearly) the rate it has alone, in under 2 GB, at a flat CPU per request.
TARGET_HELD = 0.9
TARGET_RSS_MB = 2048
TARGET_CPU_FLAT = 0.20
SETTINGS = ("ATTACHMENTS_ENABLED=False", "REQUISITES_ENABLED=False", "REPORT_PLOTS=False")


@dataclass(frozen=True)
class Curve:
    """One point of the curve: N portals crawled at once."""

    portals: int
    wall: float
    requests: int
    cpu: float
    peak_rss_mb: float
    per_portal_rate: float
    archived: int
    expected: int

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    @property
    def cpu_per_request_ms(self) -> float:
        return 1000 * self.cpu / self.requests if self.requests else 0.0


def _registry(path: Path, count: int, port: int, delay: float) -> None:
    entries = []
    for index in range(count):
        host = address(index)
        entries.append(f'[portals.p{index:03d}]\nname = "portal {index}"\nstart_urls = ["http://{host}:{port}/"]\n'
                       f'allowed_hosts = ["{host}"]\nallowed_ips = ["127.0.0.0/8"]\nschedule = "1d"\n'
                       f"delay = {delay}\nconcurrency = 1\n")
    path.write_text("\n".join(entries), encoding="utf-8")


def _descendants(root: int) -> list[int]:
    """Pids of every process below ``root`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total / 1024


def crawl_many(count: int, releases: int, work: Path, delay: float) -> Curve:
    """Serve ``count`` portals, crawl them all at once with run-due, measure."""
    from crawler.report.outputs import read_stats

    work.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.many_portals_server", "--portals", str(count),
                               "--releases", str(releases)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("listening on "):
            raise BenchmarkError(f"the portal server did not start: {line!r}")
        port = int(line.split()[-1])
        registry = work / "portals.toml"
        _registry(registry, count, port, delay)
        root = work / "archive"
        command = [str(BIN / "crawler"), "run-due", "--portals", str(registry), "--archive-root", str(root),
                   "--parallel", str(count)]
        for pair in SETTINGS:
            command += ["--set", pair]
        started = time.monotonic()
        log = work / "run-due.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
            peak = 0.0
            while True:  # wait4 on run-due alone: its CPU includes the crawl processes it waited for, not the server
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                peak = max(peak, _rss_mb([proc.pid, *_descendants(proc.pid)]))
                time.sleep(0.5)
        wall = time.monotonic() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 3):
            raise BenchmarkError(f"run-due over {count} portals exited {proc.returncode}: "
                                 f"{log.read_text('utf-8', 'replace')[-2000:]}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    requests = archived = 0
    rates = []
    for index in range(count):
        out = root / f"p{index:03d}"
        stats = read_stats(out / "crawl.log") or {}
        done = int(stats.get("downloader/request_count", 0) or 0)
        requests += done
        elapsed = float(stats.get("elapsed_time_seconds", 0) or 0)
        rates.append(done / elapsed if elapsed else 0.0)
        rows = out / "releases.jsonl"
        archived += sum(1 for _ in rows.open("rb")) if rows.exists() else 0
    return Curve(count, wall, requests, usage.ru_utime + usage.ru_stime, peak, sum(rates) / len(rates), archived,
                 count * releases)


def run(sizes: tuple[int, ...] = SIZES, releases: int = 20, delay: float = 1.0) -> dict[int, Curve]:
    """The curve and its TARGET lines; one portal alone first, as the reference rate."""
    work = Path(tempfile.mkdtemp(prefix="many-portals-"))
    curves: dict[int, Curve] = {}
    try:
        for count in (1, *sizes):
            curves[count] = crawl_many(count, releases, work / f"n{count}", delay)
            shutil.rmtree(work / f"n{count}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    alone = curves[1].per_portal_rate
    cores = os.cpu_count() or 1
    rows = [[c.portals, f"{c.wall:.0f}", c.requests, f"{c.rate:.1f}", f"{c.per_portal_rate:.2f}",
             f"{c.per_portal_rate / alone:.2f}" if alone else "-", f"{100 * c.cpu / c.wall / cores:.0f}%",
             f"{c.cpu_per_request_ms:.2f}", f"{c.peak_rss_mb:.0f}", f"{c.archived}/{c.expected}"]
            for c in curves.values()]
    print(f"\n== many portals on one machine (delay {delay} s per host, {releases} releases each) ==")
    print(table(rows, ["portals", "wall s", "requests", "req/s", "req/s per portal", "vs alone", "CPU share",
                       "CPU ms/req", "peak RSS MB", "archived"]))
    top, bottom = max(sizes), min(sizes)
    print(verdict(f"{top} portals: per-portal rate against one portal alone", curves[top].per_portal_rate / alone,
                  TARGET_HELD))
    print(verdict(f"{top} portals: total peak RSS of the crawl processes", curves[top].peak_rss_mb, TARGET_RSS_MB,
                  at_most=True, unit=" MB"))
    drift = curves[top].cpu_per_request_ms / curves[bottom].cpu_per_request_ms - 1
    print(verdict(f"CPU per request from {bottom} to {top} portals (change)", 100 * drift, 100 * TARGET_CPU_FLAT,
                  at_most=True, unit="%"))
    missing = sum(c.expected - c.archived for c in curves.values())
    print(verdict("releases not archived over the whole curve", missing, 0, at_most=True))
    return curves


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="portal counts, comma-separated")
    parser.add_argument("--releases", type=int, default=20)
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    try:
        run(tuple(int(s) for s in args.sizes.split(",")), args.releases, args.delay)
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
