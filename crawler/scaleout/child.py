"""The crawl as a child process that dies with its worker: no orphan crawl after ``kill -9`` of the worker.

``spawn`` starts ``python -m crawler.scaleout.child PARENT_PID -- COMMAND…`` in a process group of its own. That
small program asks the kernel for ``SIGKILL`` when its parent dies (``prctl(PR_SET_PDEATHSIG)``), checks that the
parent is still the worker (it may have died between ``fork`` and ``prctl``), then ``execv``s the crawl, which
keeps the death signal (it is cleared only for set-user-ID binaries). Doing this in the child's own first
instructions, instead of a ``preexec_fn``, keeps Python code out of the window between ``fork`` and ``exec`` of a
multi-threaded worker.

Linux sends the death signal when the *thread* that forked the child ends: the job thread therefore waits for
its crawl and never returns before it. ``stop`` ends the whole group (the crawl and anything it started):
SIGTERM first (Scrapy closes the WARC and the state cleanly), SIGKILL after the grace period.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO

PR_SET_PDEATHSIG = 1
#: Exit status of the guard when its parent was already gone (nothing was started).
EXIT_ORPHANED = 125


def spawn(command: Sequence[str], *, env: Mapping[str, str] | None = None,
          stdout: int | IO[bytes] | None = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    """Start ``command`` as a child that dies with this process, in its own process group."""
    guard = [sys.executable, "-m", "crawler.scaleout.child", str(os.getpid()), "--", *command]
    return subprocess.Popen(guard, env=dict(env) if env is not None else None, stdout=stdout,
                            stdin=subprocess.DEVNULL, process_group=0)


def stop(proc: subprocess.Popen[bytes], grace: float) -> int:
    """End the child's process group: SIGTERM, then SIGKILL after ``grace`` seconds; return its exit status."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + max(grace, 0.0)
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGKILL)
    return proc.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def set_parent_death_signal(signum: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``signum`` to this process when its parent (thread) ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(errno)}")


def main(argv: list[str]) -> int:
    """``python -m crawler.scaleout.child PARENT_PID -- COMMAND…``: die with the parent, then become COMMAND."""
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        print("usage: python -m crawler.scaleout.child PARENT_PID -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    parent, command = int(argv[0]), argv[2:]
    set_parent_death_signal()
    if os.getppid() != parent:
        print(f"crawler worker: parent {parent} is gone; not starting {command[0]}", file=sys.stderr)
        return EXIT_ORPHANED
    os.execv(command[0], command)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
