"""``make bench``: every benchmark in one run, side by side, then every target line again as a summary.

The crawl benchmark's WARC is the one the replay benchmark reads, and its full crawl is the small size of the
memory benchmark (the same command), so the figures come from the same run. The queue-worker benchmark
(benchmarks/scaleout_bench.py) comes next, on a redis-server of its own, then the many-portals curve
(benchmarks/many_portals_bench.py).

    .venv/bin/python -m benchmarks.run_all [--releases 5000] [--large 50000] [--pages 300]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks import (
    crawl_bench,
    export_bench,
    extract_bench,
    many_portals_bench,
    memory_bench,
    replay_bench,
    scaleout_bench,
)
from benchmarks.common import BenchmarkError, machine


class _Tee(io.TextIOBase):
    """Write to the terminal and keep a copy, so the target lines can be repeated at the end."""

    def __init__(self, stream: io.TextIOBase) -> None:
        self.stream = stream
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.stream.write(text)
        self.stream.flush()
        return self.copy.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=5000, help="releases of the crawl benchmark's portal")
    parser.add_argument("--large", type=int, default=50000, help="releases of the memory benchmark's large portal")
    parser.add_argument("--pages", type=int, default=300, help="release pages of the extraction benchmark")
    args = parser.parse_args(argv)
    tee = _Tee(sys.stdout)  # type: ignore[arg-type]
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        with contextlib.redirect_stdout(tee):
            print(f"machine: {machine()}")
            crawl = crawl_bench.run(args.releases, work / "crawl")
            extract_bench.run(args.pages, args.releases)
            replay_bench.run(work / "crawl" / "full" / "warc", work=work / "replay")
            memory_bench.run((args.releases, args.large), known={args.releases: crawl["full"]})
            export_bench.run(args.large, work=_mkdir(work / "export"))
            scaleout_bench.run(_mkdir(work / "scaleout"))
            many_portals_bench.run()
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n== summary ==")
    for line in tee.copy.getvalue().splitlines():
        if line.startswith(("TARGET", "machine:", "ratio", "INFO")):
            print(line)
    return 0


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
