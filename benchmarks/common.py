"""Shared pieces of the benchmarks: measuring a child process, the machine, pages of the simulated portal, tables.

CPU time and peak RSS are those of one command (and the children it waited for), read with ``wait4`` on that
command alone, so the simulated portal's own CPU (another child) never counts against a fetcher.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Run:
    """What one child process cost: wall seconds, CPU seconds (user + sys), peak RSS in MB, and its output."""

    wall: float
    user: float
    sys: float
    max_rss_mb: float
    returncode: int
    stdout: str
    stderr: str

    @property
    def cpu(self) -> float:
        return self.user + self.sys


class BenchmarkError(RuntimeError):
    """A benchmark step failed (its command, exit status and the end of its output are in the message)."""


#: GNU time measures a child from a ~2 MB process; without it `benchmarks.rusage_exec` does (floor ~9 MB).
GNU_TIME = "/usr/bin/time"


def run_measured(cmd: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
                 check: bool = True) -> Run:
    """Run ``cmd`` to completion and return its own wall time, CPU time (user + sys) and peak RSS.

    The figures come from a small intermediate process (GNU time, else ``benchmarks.rusage_exec``) that forks
    the command and reads ``wait4``: Linux carries a process's peak RSS over ``fork`` and ``execve``, so this
    (large) process would report its own size for any smaller child.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rusage", encoding="ascii") as report:
        if Path(GNU_TIME).is_file():
            wrapper = [GNU_TIME, "-f", "%U %S %M", "-o", report.name]
        else:
            wrapper = [sys.executable, "-m", "benchmarks.rusage_exec", report.name]
        started = time.perf_counter()
        proc = subprocess.run([*wrapper, *cmd], cwd=cwd or REPO, env=env, capture_output=True, text=True,
                              check=False)
        wall = time.perf_counter() - started
        fields = report.read().split()[-3:]
    if len(fields) != 3:
        raise BenchmarkError(f"no CPU/RSS figures for {' '.join(cmd)} (exit {proc.returncode}):\n"
                             f"{(proc.stderr or proc.stdout)[-2000:]}")
    user, sys_time, rss_kb = float(fields[0]), float(fields[1]), float(fields[2])
    run = Run(wall, user, sys_time, rss_kb / 1024, proc.returncode, proc.stdout, proc.stderr)
    if check and run.returncode != 0:
        raise BenchmarkError(f"{' '.join(cmd)} exited with {run.returncode}:\n{(proc.stderr or proc.stdout)[-2000:]}")
    return run


def machine() -> str:
    """One line describing this machine: cores, CPU model, memory, Python."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        memory = f"{mem_kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, StopIteration, ValueError):
        memory = "unknown RAM"
    return (f"{os.cpu_count()} cores ({model}), {memory}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, {load()}")


def load() -> str:
    """The load averages: other processes on the machine take CPU from the benchmarks (and from wall rates)."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def release_pages(count: int, releases: int | None = None, seed: int = 0,
                  host: str = "127.0.0.1:8000") -> Iterator[tuple[str, bytes, str, dict]]:
    """``(url, body as served, content type, truth)`` for ``count`` releases spread over a portal.

    The bytes are exactly what the simulated portal serves (before any gzip transfer coding), built in-process.
    """
    from simulator import templates
    from simulator.portal import SimulatedPortal
    from simulator.server import CONTENT_TYPES, encode_release

    total = releases or max(count, 1)
    portal = SimulatedPortal(total, seed)
    step = max(total // max(count, 1), 1)
    base = f"http://{host}"
    for index in range(0, total, step)[:count]:
        release = portal.release(index)
        body = encode_release(release, templates.release_page(portal, release, host))
        yield base + release.path, body, CONTENT_TYPES[release.charset], portal.truth(index, base)


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """A plain-text table with right-aligned numbers."""
    cells = [[str(c) for c in header], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths,
                                                                                                   strict=True))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def verdict(name: str, measured: float, target: float, *, at_most: bool = False, unit: str = "") -> str:
    """``TARGET <name>: measured X (target >= Y): met|MISSED``; every ratio line of the report uses it."""
    met = measured <= target if at_most else measured >= target
    sign = "<=" if at_most else ">="
    return f"TARGET {name}: {measured:.2f}{unit} (target {sign} {target:g}{unit}): {'met' if met else 'MISSED'}"


def count_lines(path: Path) -> int:
    """Number of lines of a file (0 when it does not exist)."""
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def stat_from_output(text: str, pattern: str, what: str) -> int:
    """An integer the ``crawler`` command printed (e.g. ``pages fetched: (\\d+)``), or a clear error."""
    match = re.search(pattern, text)
    if match is None:
        raise BenchmarkError(f"could not find {what} in the crawl's output:\n{text[-2000:]}")
    return int(match.group(1))
