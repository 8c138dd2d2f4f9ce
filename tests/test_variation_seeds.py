"""Crawls of simulated portals drawn from the space of real template variants, one per variation seed.

Each seed is a portal the spider and the extractor were not written against (``simulator/variation.py``): every
release must be found exactly once and every field must equal the simulator's truth. A failing seed is named in
the test id; replay it with ``crawler simulate --vary N`` (or ``crawler demo --vary N``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines.validate import row_problem
from simulator.process import SimulatorProcess
from tests.support.common import CrawlResult, load_truth, read_jsonl, run_cli
from tests.support.truth import completeness, field_mismatches

pytestmark = pytest.mark.slow  # `make test-quick` leaves these crawls out

#: The variation seeds of the suite (VARY_SEEDS="1-40" or "3,17" to choose others).
SEED_SPEC = os.environ.get("VARY_SEEDS", "1-20")
#: Releases per seeded portal: enough for several list pages per column, small enough for 20+ crawls.
RELEASES = int(os.environ.get("VARY_RELEASES", "90"))


def _seeds(spec: str) -> list[int]:
    seeds: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def crawl_variant(vary: int, tmp: Path) -> CrawlResult:
    """Crawl the portal of variation seed ``vary`` and load the simulator's truth about it."""
    out_dir = tmp / "out"
    with SimulatorProcess(releases=RELEASES, seed=vary, vary=vary) as sim:
        allowed = ",".join(filter(None, (sim.base_url.split("/")[2], sim.asset_host)))
        args = ["crawl", "--start-url", sim.base_url, "--portal", "demo", "--out", str(out_dir), "--delay", "0",
                "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "--set", f"ARCHIVER_ALLOWED_IPS={allowed}"]
        if sim.asset_host:
            args += ["--asset-hosts", sim.asset_host.split(":")[0]]
        proc = run_cli(*args, timeout=300)
        sim_stats = sim.stats()
        truth = load_truth(RELEASES, vary, sim.base_url, tmp, vary=vary)
    rows = read_jsonl(out_dir / "releases.jsonl") if (out_dir / "releases.jsonl").exists() else []
    return CrawlResult(out_dir, rows, truth, sim_stats, proc.returncode, proc.stdout + proc.stderr)


@pytest.mark.parametrize("vary", _seeds(SEED_SPEC))
def test_variation_seed(vary: int, tmp_path: Path) -> None:
    result = crawl_variant(vary, tmp_path)
    assert result.returncode == 0, f"seed {vary}: exit {result.returncode}\n{result.stdout[-2000:]}"
    found = completeness(result.rows, result.truth)
    assert found, f"seed {vary}: {found.describe()}"
    mismatches, examples = field_mismatches(result.rows, result.truth)
    assert not mismatches, f"seed {vary}: {dict(mismatches)}; first of each: {examples}"
    invalid = [(row["url"], row_problem(row)) for row in result.rows if row_problem(row)]
    assert not invalid, f"seed {vary}: {len(invalid)} rows invalid against the v2 schema, e.g. {invalid[:2]}"
    assert result.sim_stats["counter_hits"] == 0, f"seed {vary}: hit counters were requested"


def test_the_seeds_draw_every_list_variant() -> None:
    """The suite's seeds together draw every list form, proxy path, kind of total and a side list."""
    from simulator.portal import COLUMNS, SimulatedPortal

    variants = [SimulatedPortal(RELEASES, seed, vary=seed).list_variant(column)
                for seed in _seeds(SEED_SPEC) for column in COLUMNS]
    drawn = {(v.form, v.proxy, v.declared, v.nextgroup_page, v.side_list) for v in variants if v is not None}
    for position, wanted in enumerate([{"post", "get", "both"}, {"/module/web/jpage/dataproxy.jsp",
                                       "/module/jpage/dataproxy.jsp"}, {"honest", "stale", "absent", "huge"},
                                      {1, 2}, {True, False}]):
        assert {d[position] for d in drawn} == wanted
