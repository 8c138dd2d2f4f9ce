"""The benchmark scripts run and print their figure lines (tiny sizes; no timings are asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_module(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_extract_bench_prints_both_extractors_and_the_targets() -> None:
    pytest.importorskip("trafilatura")
    out = run_module("benchmarks.extract_bench", "--pages", "4", "--releases", "40")
    ours = re.search(r"^ours \S.*?([\d.]+)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)$", out, re.M)
    assert ours is not None, out
    # accuracy is measured against the simulator's truth: our extractor gets these four pages right
    assert [float(g) for g in ours.groups()[1:]] == [100.0, 100.0, 100.0, 1.0], out
    assert re.search(r"^trafilatura\+htmldate\s+[\d.]+\s", out, re.M), out
    assert re.search(r"^TARGET extraction speed-up over trafilatura\+htmldate: [\d.]+x \(target >= 15x\): "
                     r"(met|MISSED)$", out, re.M), out


def test_plain_spider_rejects_a_missing_url_list(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.plain_spider", str(tmp_path / "nope.txt")],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 2
    assert "nope.txt" in proc.stderr or "URLS.txt" in proc.stderr


def test_run_measured_reports_the_command_not_this_process() -> None:
    from benchmarks.common import run_measured

    ballast = bytearray(150 * 1024 * 1024)  # this process is large; a forked child starts with its peak RSS
    ballast[::4096] = b"x" * len(ballast[::4096])
    run = run_measured([sys.executable, "-c", "x = bytearray(40 * 1024 * 1024); x[::4096] = b'y' * len(x[::4096])"])
    assert 40 <= run.max_rss_mb < 120, run
    assert run.returncode == 0 and run.cpu > 0
    del ballast


def test_export_bench_prints_its_table_and_targets() -> None:
    out = run_module("benchmarks.export_bench", "--rows", "500")
    assert re.search(r"^500 rows, parquet --latest\s+[\d.]+\s", out, re.M), out
    assert re.search(r"^TARGET export of 500 rows, slowest format: [\d.]+ s \(target <= 30 s\): (met|MISSED)$", out,
                     re.M), out
