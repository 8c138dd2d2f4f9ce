"""Run the simulated portal in a child process (the Twisted reactor cannot be restarted in one process)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from types import TracebackType
from typing import Any

_LISTENING = re.compile(r"listening on (http://\S+?)/?\s*$")
_ASSET_HOST = re.compile(r"asset host http://(\S+?)/?\s*$")


class SimulatorProcess:
    """Context manager: start ``python -m simulator`` on a free loopback port, stop it on exit."""

    def __init__(self, releases: int = 300, seed: int = 0, host: str = "127.0.0.1",
                 extra_args: list[str] | None = None, startup_timeout: float = 30.0,
                 vary: int | None = None) -> None:
        vary_args = ["--vary", str(vary)] if vary is not None else []
        self.args = [sys.executable, "-m", "simulator", "--port", "0", "--host", host,
                     "--releases", str(releases), "--seed", str(seed), *vary_args, *(extra_args or [])]
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        #: host:port of the simulated object store (a second loopback address), "" if none.
        self.asset_host = ""

    def __enter__(self) -> SimulatorProcess:
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            match = _LISTENING.search(line)
            if match:
                self.base_url = match.group(1) + "/"
                asset = _ASSET_HOST.search(self.proc.stdout.readline())  # the next line names the asset host
                self.asset_host = asset.group(1) if asset else ""
                return self
        self.stop()
        raise RuntimeError(f"the simulated portal did not start: {' '.join(self.args)}")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        """The simulator's own counters (hit-counter requests, robots-disallowed requests, requests by kind)."""
        with urllib.request.urlopen(self.base_url + "__sim__/stats", timeout=10) as answer:
            return dict(json.load(answer))

    def stop(self) -> None:
        """Terminate the child and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
