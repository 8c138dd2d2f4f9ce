"""Memory benchmark: peak RSS of the full archival crawl of a small and a ten times larger simulated portal.

The crawl is the same command as (a) of the crawl benchmark; peak RSS is ``ru_maxrss`` of the crawl process
(``os.wait4``). The target: at most 15 MB more from 5,000 to 50,000 releases, i.e. nothing per release stays in
memory (the request queue and the seen-set must be bounded or on disk).

    .venv/bin/python -m benchmarks.memory_bench [--sizes 5000 50000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks.common import load, table, verdict
from benchmarks.crawl_bench import Fetch, full_crawl
from simulator.process import SimulatorProcess

TARGET_GROWTH_MB = 15.0


def crawl_size(releases: int, work: Path) -> Fetch:
    """One full archival crawl of a portal of ``releases`` releases."""
    with SimulatorProcess(releases=releases, seed=0) as sim:
        return full_crawl(sim.base_url, work / f"crawl-{releases}", name=f"full crawl, {releases} releases")


def run(sizes: tuple[int, int] = (5000, 50000), known: dict[int, Fetch] | None = None) -> dict[int, Fetch]:
    """Crawl each size (reusing ``known`` results of the same crawl), print RSS and growth, return the runs."""
    work = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    results: dict[int, Fetch] = dict(known or {})
    try:
        for size in sizes:
            if size not in results:
                results[size] = crawl_size(size, work)
                shutil.rmtree(work / f"crawl-{size}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    small, large = (results[s] for s in sizes)
    print(f"\n== memory: peak RSS of the full archival crawl, {sizes[0]} and {sizes[1]} releases ==")
    print(table([[f.name, f.releases, f.run.wall, f.releases_per_s, f.run.max_rss_mb] for f in (small, large)],
                ["crawl", "releases", "wall s", "releases/s", "peak RSS MB"]))
    print(f"Now: {load()}.")
    growth = large.run.max_rss_mb - small.run.max_rss_mb
    print(verdict(f"peak RSS growth from {sizes[0]} to {sizes[1]} releases", growth, TARGET_GROWTH_MB,
                  at_most=True, unit=" MB"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=(5000, 50000), metavar=("SMALL", "LARGE"))
    args = parser.parse_args(argv)
    run(tuple(args.sizes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
