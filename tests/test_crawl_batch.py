"""Several portals in one crawl process (issue 16, "one machine"): ``run-due`` over ``crawler crawl-batch``.

Three simulated portals, each on a loopback address of its own, crawled at once by one process: each portal's
directory must hold exactly what a crawl of it alone writes (its releases once, its own report and verdict, its own
crawl.log with none of the other portals' lines, WARC files that ``crawler verify`` finds clean); a portal whose
directory holds another portal's crawl is refused as bad input, and costs its portal only.
"""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from pathlib import Path

from simulator.process import SimulatorProcess
from tests.support.common import load_truth, run_cli
from tests.support.invariants import assert_accounted

HOSTS = ("127.0.0.41", "127.0.0.42", "127.0.0.43")
SIZES = (12, 15, 18)
FAST = ("--set", "ATTACHMENTS_ENABLED=False", "--set", "REQUISITES_ENABLED=False", "--set", "REPORT_PLOTS=False")


def _entry(portal: str, base_url: str) -> str:
    host = re.sub(r"^http://|:\d+/?$", "", base_url)
    netloc = base_url.split("//", 1)[1].rstrip("/")
    return (f'[portals.{portal}]\nname = "{portal}"\nstart_urls = ["{base_url}"]\nallowed_hosts = ["{host}"]\n'
            f'allowed_ips = ["{netloc}"]\nschedule = "1d"\ndelay = 0\nconcurrency = 4\n')


def test_three_portals_in_one_process_each_as_if_alone(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    with ExitStack() as stack:
        sims = [stack.enter_context(SimulatorProcess(SIZES[i], seed=i, host=host, extra_args=["--asset-host", ""]))
                for i, host in enumerate(HOSTS)]
        portals = {f"p{i}": sim for i, sim in enumerate(sims)}
        registry = tmp_path / "portals.toml"
        # "taken": its directory holds another portal's crawl, which crawl refuses as bad input before writing
        registry.write_text("\n".join(_entry(p, sim.base_url) for p, sim in [*portals.items(), ("taken", sims[0])]),
                            encoding="utf-8")
        (root / "taken").mkdir(parents=True)
        (root / "taken" / "report.json").write_text('{"portal": "someone-else"}', encoding="utf-8")
        proc = run_cli("run-due", "--portals", str(registry), "--archive-root", str(root), "--parallel", "4",
                       "--processes", "1", *FAST, timeout=300)
        truths = {}
        for i, (portal, sim) in enumerate(portals.items()):
            (tmp_path / portal).mkdir()
            truths[portal] = load_truth(SIZES[i], i, sim.base_url, tmp_path / portal)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 2, proc.stdout + proc.stderr  # the taken directory is bad input: run-due says so
    assert any(re.search(r"taken: bad input .*someone-else", line) for line in lines), proc.stdout
    assert (root / "taken" / "report.json").read_text("utf-8") == '{"portal": "someone-else"}'  # untouched
    batch_logs = list((root / "logs").glob("crawl-batch-*.log"))
    assert len(batch_logs) == 1, batch_logs  # one crawl process for every portal
    run_ids = {}
    for portal, truth in truths.items():
        assert any(re.search(rf"{portal}: complete \(exit 0\)", line) for line in lines), proc.stdout
        out = root / portal
        rows = [json.loads(line) for line in (out / "releases.jsonl").read_text("utf-8").splitlines()]
        assert sorted(r["url"] for r in rows) == sorted(truth)
        assert {r["portal"] for r in rows} == {portal}
        report = json.loads((out / "report.json").read_text("utf-8"))
        assert report["verdict"]["outcome"] == "complete" and report["releases"]["archived"] == len(truth)
        run_ids[portal] = report["run_id"]
        assert_accounted(out)
        verify = run_cli("verify", str(out), timeout=120)
        assert verify.returncode == 0, verify.stdout + verify.stderr
    for portal, sim in portals.items():
        log = (root / portal / "crawl.log").read_text("utf-8")
        assert run_ids[portal] in log and "Spider closed" in log
        others = [p for p in portals if p != portal]
        for other in others:
            assert run_ids[other] not in log, f"{other}'s lines in {portal}'s crawl.log"
            assert portals[other].base_url not in log, f"{other}'s URLs in {portal}'s crawl.log"
        assert sim.base_url in log


def test_a_batch_stretches_fsync_intervals_to_its_budget() -> None:
    from scrapy.settings import Settings

    from crawler.cli.run import FSYNC_INTERVALS, fsync_intervals

    settings = Settings({"BATCH_FSYNCS_PER_SECOND": 30.0, "WARC_FSYNC_INTERVAL": 1.0, "JSONL_FSYNC_INTERVAL": 2.0,
                         "RECURRING_FLUSH_INTERVAL": 1.0})
    assert fsync_intervals(settings, 1) == {"WARC_FSYNC_INTERVAL": 1.0, "JSONL_FSYNC_INTERVAL": 2.0,
                                            "RECURRING_FLUSH_INTERVAL": 1.0}
    many = fsync_intervals(settings, 150)
    assert set(many) == set(FSYNC_INTERVALS) and all(value == 15.0 for value in many.values())
    assert 150 * sum(1 / value for value in many.values()) <= 30.0 + 1e-9  # fsyncs a second, all crawls
