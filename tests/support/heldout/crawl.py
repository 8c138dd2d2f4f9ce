"""Run the real ``crawler crawl`` against a served portal in a child process, with a hard deadline.

The crawl gets the settings a user would give a loopback portal (delay 0, the portal and object-store addresses
allowed, the object store as an asset host) and nothing that steers its list walking or extraction.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .server import PortalServer

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[3]


@dataclass
class CrawlOutcome:
    """What one crawl left behind."""

    out_dir: Path
    returncode: int | None  # None: killed at the deadline
    output: str
    seconds: float
    rows: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: int = 0

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def tail(self, size: int = 1500) -> str:
        return self.output[-size:]


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], int]:
    if not path.exists():
        return [], 0
    rows, bad = [], 0
    for line in path.read_text("utf-8", "replace").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            bad += 1
    return rows, bad


def run_crawl(server: PortalServer, out_dir: Path, portal: str, *, deadline: float = 120,
              settings: dict[str, str] | None = None) -> CrawlOutcome:
    """Crawl ``server``'s portal into ``out_dir``; past ``deadline`` seconds the crawl is interrupted, then killed."""
    ips = f"{server.portal_ip},{server.asset_ip}"
    args = [str(BIN / "crawler"), "crawl", "--start-url", server.base_url, "--portal", portal, "--out", str(out_dir),
            "--delay", "0", "--asset-hosts", server.asset_ip, "--set", f"ARCHIVER_ALLOWED_IPS={ips}",
            "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "--set", "PROGRESS_ENABLED=False"]
    for name, value in (settings or {}).items():
        args += ["--set", f"{name}={value}"]
    started = time.monotonic()
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        output, _ = proc.communicate(timeout=deadline)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=8)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        code = None
    outcome = CrawlOutcome(out_dir, code, output or "", time.monotonic() - started)
    outcome.rows, bad = _read_jsonl(out_dir / "releases.jsonl")
    outcome.failures, bad_failures = _read_jsonl(out_dir / "failures.jsonl")
    outcome.bad_lines = bad + bad_failures
    return outcome
