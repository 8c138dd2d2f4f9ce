"""Helpers of the cluster tests: simulated portals, a registry for them, queue workers as real processes.

Every worker is a real ``crawler worker`` process on the test's Redis namespace; every portal a real simulator
process on 127.0.0.1. A worker's log lines go to a file the test polls.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from simulator.process import SimulatorProcess
from tests.support.common import BIN, REPO

#: Attachments and page requisites are other features: off, so each portal is pages and releases only.
FAST = ("--set", "ATTACHMENTS_ENABLED=False", "--set", "REQUISITES_ENABLED=False",
        "--set", "RECURRING_FLUSH_INTERVAL=0.2", "--set", "JSONL_FSYNC_INTERVAL=0.2")
TIMED_SIMULATOR = Path(__file__).with_name("timed_simulator.py")


@dataclass
class Portal:
    """One simulated portal: its id, simulator and (for timed simulators) its request log."""

    id: str
    sim: SimulatorProcess
    releases: int
    seed: int
    times: Path | None = None

    @property
    def netloc(self) -> str:
        return urlsplit(self.sim.base_url).netloc

    def request_times(self) -> list[float]:
        """Arrival times (s since the epoch) of every request the simulator served, robots.txt included."""
        assert self.times is not None
        return [float(line.split()[0]) for line in self.times.read_text().splitlines() if line.strip()]


@contextmanager
def portals(count: int, releases: int, tmp: Path, *, timed: bool = False, first_seed: int = 21,
            ) -> Iterator[list[Portal]]:
    """``count`` simulated portals p1..pN, each its own simulator process on 127.0.0.1 (no asset host)."""
    with ExitStack() as stack:
        made = []
        for n in range(1, count + 1):
            sim = SimulatorProcess(releases, first_seed + n, extra_args=["--asset-host", ""])
            times = None
            if timed:
                times = tmp / f"p{n}-requests.txt"
                sim.args = [sys.executable, str(TIMED_SIMULATOR), str(times), "--", *sim.args[3:]]
            made.append(Portal(f"p{n}", stack.enter_context(sim), releases, first_seed + n, times))
        yield made


def write_registry(path: Path, items: Sequence[Portal], *, delay: float, concurrency: int = 4) -> Path:
    """A registry of the portals (schedule 1d: each is due once)."""
    text = "".join(f'[portals.{p.id}]\nname = "simulated {p.id}"\nstart_urls = ["{p.sim.base_url}"]\n'
                   f'allowed_hosts = ["127.0.0.1"]\nallowed_ips = ["{p.netloc}"]\nschedule = "1d"\n'
                   f"delay = {delay}\nconcurrency = {concurrency}\n\n" for p in items)
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class Worker:
    """A ``crawler worker`` process and its log."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    root: Path
    started: float = field(default_factory=time.monotonic)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def crawl_pid(self, portal: str) -> int | None:
        """The pid of the crawl this worker started for ``portal`` (its latest)."""
        found = re.findall(rf"portal {re.escape(portal)}: crawling \(pid (\d+)", self.text())
        return int(found[-1]) if found else None

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_worker(name: str, url: str, namespace: str, machine: str, root: Path, registry: Path, logs: Path,
                 *extra: str) -> Worker:
    """Start ``crawler worker`` (its own session, so a test's kill reaches it alone)."""
    log = logs / f"{name}.log"
    handle = log.open("wb")
    proc = subprocess.Popen([str(BIN / "crawler"), "worker", "--queue", url, "--machine", machine,
                             "--worker-id", name, "--portals", str(registry), "--archive-root", str(root),
                             "--set", f"SCALEOUT_NAMESPACE={namespace}", *FAST, *extra],
                            stdout=handle, stderr=subprocess.STDOUT, cwd=REPO)
    handle.close()
    return Worker(name, proc, log, root)


def wait_for(predicate: object, timeout: float, what: str, step: float = 0.2) -> float:
    """Poll ``predicate()`` until true; the seconds it took (AssertionError naming ``what`` after ``timeout``)."""
    assert callable(predicate)
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)
    return time.monotonic() - started


def alive(pid: int) -> bool:
    """True while ``pid`` is a running (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text`` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline and alive(int(entry.name)):
            found.append(int(entry.name))
    return found
