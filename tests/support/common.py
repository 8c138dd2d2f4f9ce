"""What many tests share: the repository's paths, the ``crawler`` command in a child process, JSONL reading."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


class CrawlOutput:
    """The output directory of a finished crawl (a mixin of the crawl results below and in the other helpers)."""

    out_dir: Path

    @property
    def warc_dir(self) -> Path:
        return self.out_dir / "warc"

    @property
    def warc_files(self) -> list[Path]:
        return sorted(self.warc_dir.glob("*.warc.gz"))


@dataclass
class CrawlResult(CrawlOutput):
    """A finished crawl's outputs and the simulator's truth about the portal it crawled."""

    out_dir: Path
    rows: list[dict[str, Any]]
    truth: dict[str, dict[str, Any]]
    sim_stats: dict[str, Any]
    returncode: int
    stdout: str


def run_cli(*args: str, timeout: float = 600, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run the ``crawler`` command in a child process (each crawl needs a fresh Twisted reactor).

    After a ``crawl`` or ``demo`` that ran (it printed its run id), the conservation law is checked on its output
    directory (`tests.support.invariants.assert_accounted`): every crawl of the suite, not just the happy path.
    """
    proc = subprocess.run([str(BIN / "crawler"), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, **kwargs)
    if args and args[0] in ("crawl", "demo"):
        check_crawl_law(args, proc)
    return proc


def check_crawl_law(args: tuple[str, ...] | list[str], proc: subprocess.CompletedProcess[str]) -> None:
    """The conservation law on the output of one ``crawler crawl|demo`` that ran (see `run_cli`)."""
    import re

    from tests.support.invariants import assert_accounted

    ran = re.search(r"^run (\S+) of portal ", proc.stdout, re.MULTILINE)
    if ran is None or proc.returncode == 4:  # bad input, not run, or killed before the summary
        return
    out = Path(args[list(args).index("--out") + 1]) if "--out" in args else REPO / "output" / (
        "demo" if args[0] == "demo" else "crawl")
    out = out if out.is_absolute() else REPO / out
    try:
        report = json.loads((out / "report.json").read_text("utf-8"))
    except FileNotFoundError:
        report = {"run_id": None}
    if report["run_id"] != ran.group(1):
        if "disk full" in proc.stdout:
            return  # the report itself could not be written
        raise AssertionError(f"the run {ran.group(1)} wrote no report.json (found run {report['run_id']})")
    assert_accounted(out, proc.returncode)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", errors="strict") as handle:
        return [json.loads(line) for line in handle]


def load_truth(releases: int, seed: int, base_url: str, tmp: Path, vary: int | None = None,
               ) -> dict[str, dict[str, Any]]:
    """The simulator's truth for a portal, keyed by release URL."""
    truth_path = tmp / "truth.jsonl"
    vary_args = ["--vary", str(vary)] if vary is not None else []
    subprocess.run([sys.executable, "-m", "simulator", "--releases", str(releases), "--seed", str(seed),
                    *vary_args, "--truth", str(truth_path), "--base-url", base_url], check=True, cwd=REPO,
                   timeout=300)
    return {row["url"]: row for row in read_jsonl(truth_path)}
