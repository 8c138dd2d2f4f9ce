"""`crawler demo` (what `make demo` runs): starts the simulated portal, crawls it, says where the outputs are."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.support.common import run_cli

SEED_TITLE = "CPPCC Chairman Meeting of Binjiang District to Inspect the Deep Development Work of Maker Spaces"


def test_demo_crawls_the_simulated_portal_into_its_output_and_keeps_the_previous_one_aside(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    runs = []
    for _ in range(2):
        proc = run_cli("demo", "--releases", "40", "--out", str(out), timeout=300)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        match = re.search(r"^JSON Lines: (\S+) ", proc.stdout, re.MULTILINE)
        assert match, proc.stdout
        assert Path(match.group(1)) == out / "releases.jsonl"
        assert "hit-counter requests seen by the portal: 0" in proc.stdout
        assert f"crawler verify {out} " in proc.stdout and f"crawler replay {out}/warc " in proc.stdout  # next
        runs.append(out)
    runs[0] = tmp_path / "demo.previous"  # the first demo, moved aside by the second
    assert "the earlier demo output is now" in proc.stdout
    for jsonl in (run / "releases.jsonl" for run in runs):
        rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == 40 and len({row["release_id"] for row in rows}) == 40
        assert any(row["title"] == SEED_TITLE for row in rows)
        assert list((jsonl.parent / "warc").glob("*.warc.gz"))
