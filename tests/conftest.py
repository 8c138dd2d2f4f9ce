"""Shared fixtures: a loopback-only network guard, the simulated portal, and one real crawl of it."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from simulator.process import SimulatorProcess
from tests.support.common import CrawlResult, load_truth, read_jsonl, run_cli
from tests.support.redis_server import namespace, redis_server  # noqa: F401 - fixtures of the scaleout tests

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
