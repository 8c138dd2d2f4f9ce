"""Issue 13 on real runs: Ctrl-C (a real SIGINT to a real crawl), a full disk under the JSON Lines files (a real
tmpfs), and what run-due, ``crawler portals`` and the state record: the same outcome as the summary."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.recurring.state import CrawlState
from crawler.report.verdict import Exit
from simulator.process import SimulatorProcess
from tests.support.common import BIN, REPO, run_cli
from tests.support.faultserver import FaultServer, html_page, respond
from tests.support.invariants import assert_accounted, load_report
from tests.support.recurring_support import FAST, crawl, read_lines, write_registry
from tests.support.tmpfs import small_tmpfs

HTML = [("Content-Type", "text/html; charset=utf-8")]


def _outcomes(state_path: Path, portal: str = "demo") -> list[str]:
    state = CrawlState(state_path)
    try:
        return [row["outcome"] for row in state.runs(portal)]
    finally:
        state.close()


def test_ctrl_c_is_acknowledged_recorded_as_interrupted_and_the_next_run_resumes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with SimulatorProcess(60, 4, extra_args=["--asset-host", ""]) as sim:
        registry = write_registry(tmp_path / "portals.toml", sim.base_url)
        command = [str(BIN / "crawler"), "crawl", "--portal", "demo", "--portals", str(registry), "--out", str(out),
                   *FAST, "--set", "DOWNLOAD_DELAY=0.25", "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                   "--set", "RANDOMIZE_DOWNLOAD_DELAY=False"]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        deadline = time.monotonic() + 90
        while len(read_lines(out / "releases.jsonl")) < 8 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "the crawl ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=90)
        first_rows = len(read_lines(out / "releases.jsonl"))
        assert "stopping: finishing " in stderr and "requests in flight, Ctrl-C again to stop now" in stderr, stderr
        assert proc.returncode == Exit.INCOMPLETE, stdout + stderr
        assert stdout.splitlines()[0].startswith("INTERRUPTED: stopped by Ctrl-C"), stdout
        assert _outcomes(out / "state.sqlite") == ["interrupted"]
        assert_accounted(out, proc.returncode)
        assert load_report(out)["verdict"]["outcome"] == "interrupted"
        assert 8 <= first_rows < 60
        resumed = crawl(sim, registry, out)  # run_cli checks the conservation law of this run too
    assert resumed.proc.returncode == 0, resumed.proc.stdout + resumed.proc.stderr
    skipped = int(re.search(r"archived before the interruption (\d+)", resumed.proc.stdout).group(1))  # type: ignore[union-attr]
    assert skipped >= first_rows - 1  # the last row may have been written while the state caught up
    rows = read_lines(out / "releases.jsonl")
    assert len({row["release_id"] for row in rows}) == 60 == len(rows)
    assert _outcomes(out / "state.sqlite") == ["interrupted", "complete"]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 96 KiB tmpfs: writes past it fail with ENOSPC, like a full disk."""
    with small_tmpfs(tmp_path / "tiny", "96k") as mount:
        yield mount


@pytest.mark.parametrize("full", ["releases.jsonl", "failures.jsonl"])
def test_a_full_disk_under_a_json_lines_file_is_a_failed_run(tmp_path: Path, tiny_disk: Path, full: str) -> None:
    """The WARC files fit (another disk); the JSON Lines file hits ENOSPC first: the run is failed, says so, and
    exits 1 (it used to exit 0 with 0 rows)."""
    out = tmp_path / "out"
    setting = {"releases.jsonl": "JSONL_OUTPUT_PATH", "failures.jsonl": "FAILURES_OUTPUT_PATH"}[full]
    with FaultServer() as fs:
        # failure rows are small: long query strings make 60 of them more than the tiny disk holds
        query = "" if full == "releases.jsonl" else "?from=" + "x" * 1800
        paths = [f"/art/2024/1/1/art_7_{700 + i}.html" for i in range(60)]
        for i, path in enumerate(paths):
            if full == "releases.jsonl":
                fs.route(path, respond(200, html_page(f"正文{i} " + "政务公开信息" * 600, title=f"标题{i}"), HTML))
            else:
                fs.route(path, respond(404, b"<html><body>" + b"x" * 100 + b"</body></html>", HTML))
        records = "".join(f"<record><![CDATA[<li><a href=\"{p}{query}\">标题{i}</a></li>]]></record>"
                          for i, p in enumerate(paths))
        start = fs.route("/col/col7/index.html", respond(200, (
            "<html><head><title>通知公告</title></head><body><script type=\"text/xml\"><datastore><recordset>"
            f"{records}</recordset></datastore></script></body></html>").encode(), HTML))
        proc = run_cli("crawl", "--start-url", start, "--portal", "disk", "--out", str(out), "--delay", "0",
                       "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "ROBOTSTXT_OBEY=False",
                       "--set", "RETRY_TIMES=0", "--set", "PROGRESS_ENABLED=False", "--set", "RECURRING_ENABLED=False",
                       "--set", f"{setting}={tiny_disk / full}", "--set", f"REPORT_DIR={out}",
                       "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=2", timeout=180)
    assert proc.returncode == Exit.PROBLEM, proc.stdout + proc.stderr[-2000:]
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"FAILED: disk full ({full}: ") and "No space left on device" in first, first
    assert load_report(out)["verdict"]["outcome"] == "failed"


def test_run_due_portals_and_the_state_record_the_verdict(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with SimulatorProcess(15, 4, extra_args=["--asset-host", ""]) as sim:
        registry = write_registry(tmp_path / "portals.toml", sim.base_url)
        proc = run_cli("run-due", "--portals", str(registry), "--archive-root", str(root),
                       "--set", "ARCHIVER_ALLOWED_IPS=127.0.0.1", "--set", "ATTACHMENTS_ENABLED=False", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ demo: crawling \(run \S+\)", lines[0]), lines
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ demo: complete \(exit 0\): 15 listed, 15 archived, "
                        r"0 failed, 0 skipped; main failure reason: http_404", lines[1]), lines
    assert_accounted(root / "demo", 0)
    assert _outcomes(root / "demo" / "state.sqlite") == ["complete"]
    portals = run_cli("portals", "--portals", str(registry), "--archive-root", str(root), timeout=60)
    assert re.search(r"^demo .* complete ", portals.stdout, re.MULTILINE), portals.stdout
    bad = run_cli("run-due", "--portals", str(registry), "--archive-root", str(root), "--set", "RETRY_TIMES=x",
                  timeout=60)
    assert bad.returncode == Exit.BAD_INPUT and "RETRY_TIMES expects an integer" in bad.stderr
