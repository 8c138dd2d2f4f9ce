"""Shared fixtures: a loopback-only network guard, the simulated portal, and one real crawl of it."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.simulator_process import SimulatorProcess

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
E2E_RELEASES = int(os.environ.get("E2E_RELEASES", "2000"))

_real_connect = socket.socket.connect


def _loopback_only_connect(self: socket.socket, address: Any) -> Any:
    """Fail any test that connects anywhere but 127.0.0.0/8 or ::1."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = ipaddress.ip_address(socket.gethostbyname(host))
        if not ip.is_loopback:
            raise AssertionError(f"test tried to connect to {host}: only 127.0.0.0/8 is allowed")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def loopback_only() -> Iterator[None]:
    socket.socket.connect = _loopback_only_connect  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@dataclass
class CrawlResult:
    """A finished crawl's outputs and the simulator's truth about the portal it crawled."""

    out_dir: Path
    rows: list[dict[str, Any]]
    truth: dict[str, dict[str, Any]]
    sim_stats: dict[str, Any]
    returncode: int
    stdout: str

    @property
    def warc_files(self) -> list[Path]:
        return sorted((self.out_dir / "warc").glob("*.warc.gz"))


def run_cli(*args: str, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the ``crawler`` command in a child process (each crawl needs a fresh Twisted reactor)."""
    return subprocess.run([str(BIN / "crawler"), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, **kwargs)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", errors="strict") as handle:
        return [json.loads(line) for line in handle]


def load_truth(releases: int, seed: int, base_url: str, tmp: Path) -> dict[str, dict[str, Any]]:
    truth_path = tmp / "truth.jsonl"
    subprocess.run([sys.executable, "-m", "crawler.simulator", "--releases", str(releases), "--seed", str(seed),
                    "--truth", str(truth_path), "--base-url", base_url], check=True, cwd=REPO, timeout=300)
    return {row["url"]: row for row in read_jsonl(truth_path)}


@pytest.fixture(scope="session")
def e2e_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrawlResult]:
    """One crawl of a simulated portal of E2E_RELEASES releases, shared by the end-to-end tests."""
    tmp = tmp_path_factory.mktemp("e2e")
    out_dir = tmp / "out"
    with SimulatorProcess(releases=E2E_RELEASES, seed=7) as sim:
        proc = run_cli("crawl", "--start-url", sim.base_url, "--portal", "demo", "--out", str(out_dir),
                       "--delay", "0", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
                       "--set", "WARC_MAX_SIZE=20000000", "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1")
        sim_stats = sim.stats()
        truth = load_truth(E2E_RELEASES, 7, sim.base_url, tmp)
    rows = read_jsonl(out_dir / "releases.jsonl") if (out_dir / "releases.jsonl").exists() else []
    yield CrawlResult(out_dir, rows, truth, sim_stats, proc.returncode, proc.stdout + proc.stderr)
