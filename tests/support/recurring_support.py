"""Helpers of the recurring-crawl tests: a registry for a running simulator, and one `crawler crawl` of it."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.process import SimulatorProcess
from tests.support.common import run_cli

#: Attachments and page requisites are other features; off here, so the counts below are about releases.
FAST = ("--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "ATTACHMENTS_ENABLED=False",
        "--set", "REQUISITES_ENABLED=False", "--set", "RECURRING_FLUSH_INTERVAL=0.2", "--set", "REPORT_PLOTS=False")


def write_registry(path: Path, base_url: str, *, refresh_window: str = "36500d", portal: str = "demo") -> Path:
    """A registry with one portal on the simulator (a refresh window that makes every release young)."""
    path.write_text(f'[portals.{portal}]\nname = "simulated"\nstart_urls = ["{base_url}"]\n'
                    f'allowed_hosts = ["127.0.0.1"]\nschedule = "1d"\ndelay = 0\nconcurrency = 8\n'
                    f'refresh_window = "{refresh_window}"\n', encoding="utf-8")
    return path


@dataclass
class Run:
    """One crawl: its process, the simulator's request counts during it, and the crawl's stats line."""

    proc: subprocess.CompletedProcess[str]
    requests: dict[str, int]

    @property
    def full_release_fetches(self) -> int:
        return self.requests.get("release", 0) - self.requests.get("release_not_modified", 0)


def crawl(sim: SimulatorProcess, registry: Path, out: Path, *extra: str, portal: str = "demo") -> Run:
    before = sim.stats()["requests"]
    proc = run_cli("crawl", "--portal", portal, "--portals", str(registry), "--out", str(out), *FAST, *extra,
                   timeout=300)
    after = sim.stats()["requests"]
    return Run(proc, {k: after.get(k, 0) - before.get(k, 0) for k in after})


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def release_id(article_id: int, portal: str = "demo") -> str:
    """The ``release_id`` (schema 2: ``portal:column_article``) of a classic simulated release by article id."""
    from simulator.portal import AID_BASE, COLUMNS

    return f"{portal}:{COLUMNS[(article_id - AID_BASE) % len(COLUMNS)].cid}_{article_id}"
