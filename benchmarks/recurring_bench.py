"""Recurring-crawl benchmark: run 1 (everything) against run 2 (nothing changed) on the simulated portal.

    .venv/bin/python benchmarks/recurring_bench.py [--releases 2000]

Prints, for both runs, the release requests the portal answered in full (200) and with 304, the wall time and
the bytes written to WARC. Run 2 should make no full release fetch: only conditional requests, answered 304.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator.process import SimulatorProcess  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=2000)
    args = parser.parse_args()
    simulator = SimulatorProcess(args.releases, 7, extra_args=["--asset-host", ""])
    with tempfile.TemporaryDirectory() as tmp, simulator as sim:
        registry = Path(tmp) / "portals.toml"
        registry.write_text(f'[portals.demo]\nname = "bench"\nstart_urls = ["{sim.base_url}"]\n'
                            'allowed_hosts = ["127.0.0.1"]\nschedule = "1d"\ndelay = 0\nconcurrency = 8\n'
                            'refresh_window = "36500d"\n', encoding="utf-8")
        out = Path(tmp) / "out"
        print(f"{'run':<6}{'full 200':>10}{'304':>8}{'seconds':>9}{'WARC bytes':>14}")
        for run in (1, 2):
            before, size_before = sim.stats()["requests"], _warc_bytes(out)
            started = time.monotonic()
            proc = subprocess.run([str(Path(sys.executable).parent / "crawler"), "crawl", "--portal", "demo",
                                   "--portals", str(registry), "--out", str(out), "--set",
                                   "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "ATTACHMENTS_ENABLED=False",
                                   "--set", "REQUISITES_ENABLED=False"], cwd=REPO, capture_output=True, text=True)
            elapsed = time.monotonic() - started
            after = sim.stats()["requests"]
            if proc.returncode != 0:
                print(proc.stdout + proc.stderr)
                return 1
            answered = after.get("release", 0) - before.get("release", 0)
            not_modified = after.get("release_not_modified", 0) - before.get("release_not_modified", 0)
            print(f"{run:<6}{answered - not_modified:>10}{not_modified:>8}{elapsed:>9.1f}"
                  f"{_warc_bytes(out) - size_before:>14}")
    return 0


def _warc_bytes(out: Path) -> int:
    return sum(p.stat().st_size for p in (out / "warc").glob("*.warc.gz")) if (out / "warc").exists() else 0


if __name__ == "__main__":
    sys.exit(main())
