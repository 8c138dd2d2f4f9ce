"""Crawls for the export tests: recurring runs of a simulated portal (with changed releases, so several captures
of one release), and a second portal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from simulator.portal import SimulatedPortal
from simulator.process import SimulatorProcess
from tests.support.common import run_cli
from tests.support.recurring_support import release_id, write_registry

RELEASES = 30
SEED = 11
#: Attachments stay on (archived files make the nested attachment columns real); page requisites are off.
OPTIONS = ("--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "REQUISITES_ENABLED=False",
           "--set", "RECURRING_FLUSH_INTERVAL=0.2", "--set", "REPORT_PLOTS=False")


@dataclass
class Series:
    """Recurring runs of one portal into ``out`` and one run of a second portal into ``other``."""

    out: Path
    other: Path
    changed: list[str] = field(default_factory=list)  # release ids changed twice, then once
    returncodes: list[int] = field(default_factory=list)


def crawl(registry: Path, out: Path, portal: str, *extra: str) -> int:
    proc = run_cli("crawl", "--portal", portal, "--portals", str(registry), "--out", str(out), *OPTIONS, *extra,
                   timeout=300)
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr
    return proc.returncode


def recurring_series(tmp: Path, runs: int = 3, releases: int = RELEASES, other: bool = True) -> Series:
    """*runs* runs of portal ``demo`` (a release changed before run 2 and again before run 3, another before run 3,
    new hit counts each time) and (*other*) one run of portal ``other`` with the operator's terms set."""
    before = SimulatedPortal(releases, SEED)
    changed = [r.article_id for i in range(releases) if (r := before.release(i)).language == "zh"][:2]
    series = Series(tmp / "demo", tmp / "other", [release_id(a) for a in changed])
    mutations = tmp / "mutations.json"
    epochs = [{"epoch": 1, "change": {str(changed[0]): "本文于近日作了补充说明。"}},
              {"epoch": 2, "add": 2, "change": {str(changed[0]): "本文于近日再次作了补充说明。",
                                                str(changed[1]): "附件已更新。"}}]
    with SimulatorProcess(releases, SEED, extra_args=["--mutations", str(mutations), "--asset-host", ""]) as sim:
        registry = write_registry(tmp / "portals.toml", sim.base_url)
        for run in range(runs):
            if run:
                mutations.write_text(json.dumps(epochs[min(run, len(epochs)) - 1]), encoding="utf-8")
            series.returncodes.append(crawl(registry, series.out, "demo"))
    if not other:
        return series
    with SimulatorProcess(RELEASES // 2, SEED + 1, extra_args=["--asset-host", ""]) as sim:
        registry = write_registry(tmp / "other.toml", sim.base_url, portal="other")
        series.returncodes.append(crawl(registry, series.other, "other", "--set", "DATASET_TERMS=CC BY 4.0; cite the "
                                        "portal", "--set", "DATASET_LICENSE=CC-BY-4.0"))
    return series
