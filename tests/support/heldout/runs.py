"""Run every held-out crawl of the test module in the background, a few at a time, and keep what each left.

A seed job serves :func:`generate.draw_site` and crawls it; a hostile job serves a :class:`hostile.Case`. Jobs start
when the module's fixture is made, the slow Retry-After case first, so the module's wall time is about the longest
crawl rather than their sum.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .crawl import CrawlOutcome, run_crawl
from .generate import draw_site
from .hostile import Case
from .model import Site
from .server import PortalServer, Request


@dataclass
class Finished:
    """A crawl and the server's view of it."""

    site: Site
    bases: dict[str, str]
    truth: list[dict[str, Any]]
    outcome: CrawlOutcome
    log: list[Request]
    counters: list[Request]
    started_utc: datetime
    case: Case | None = None
    server_errors: list[str] | None = None

    def crawl_stats(self) -> dict[str, str]:
        """Scrapy's end-of-crawl stats from crawl.log (``'name': value`` lines of a repr dump, or ``"name": value``
        lines of a JSON dump), values as text."""
        path = self.outcome.out_dir / "crawl.log"
        text = path.read_text("utf-8", "replace") if path.exists() else ""
        return dict(re.findall(r"""^\s*[{ ]?["']([^"']+)["']: ([^,\n]+),?$""", text, re.M))


def _addresses(index: int) -> tuple[str, str]:
    return f"127.0.0.{20 + 2 * index}", f"127.0.0.{21 + 2 * index}"


def run_seed(seed: int, index: int, out_root: Path) -> Finished:
    site = draw_site(seed)
    portal_ip, asset_ip = _addresses(index)
    with PortalServer(site, portal_ip, asset_ip) as server:
        started = datetime.now(UTC)
        outcome = run_crawl(server, out_root / f"seed-{seed}", f"heldout{seed}", deadline=40)
        return Finished(site, dict(server.bases), server.truth(), outcome, list(server.app.log),
                        server.app.counter_requests(), started, None, list(server.app.errors))


def run_case(case: Case, index: int, out_root: Path) -> Finished:
    portal_ip, asset_ip = _addresses(index)
    with PortalServer(case.site, portal_ip, asset_ip, case.behaviour) as server:
        started = datetime.now(UTC)
        outcome = run_crawl(server, out_root / f"case-{case.name}", f"hostile{index}", deadline=case.deadline,
                            settings=case.settings)
        return Finished(case.site, dict(server.bases), server.truth(), outcome, list(server.app.log),
                        server.app.counter_requests(), started, case, list(server.app.errors))


class Runs:
    """All crawls of the module, started at once on a small pool; ``seed(n)`` and ``case(name)`` wait for one."""

    def __init__(self, seeds: list[int], cases: list[Case], out_root: Path, workers: int = 3) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="heldout-crawl")
        self.lock = threading.Lock()
        self.jobs: dict[str, Future[Finished]] = {}
        for index, case in enumerate(cases):
            self.jobs[f"case:{case.name}"] = self.pool.submit(run_case, case, 40 + index, out_root)
        for index, seed in enumerate(seeds):
            self.jobs[f"seed:{seed}"] = self.pool.submit(run_seed, seed, index, out_root)

    def seed(self, seed: int) -> Finished:
        return self.jobs[f"seed:{seed}"].result()

    def case(self, name: str) -> Finished:
        return self.jobs[f"case:{name}"].result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
