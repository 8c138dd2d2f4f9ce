"""``crawler crawl-batch``: several registered portals crawled in one process (what ``run-due`` starts).

Each portal is crawled exactly as ``crawler crawl --portal ID --out ROOT/ID`` would crawl it (its own output
directory, WARC files, state, lock, report, verdict and ``crawl.log``); the crawls share one Scrapy process and
reactor, so a portal costs a few megabytes instead of a Python process (docs/recurring.md, "Many portals on one
machine"). At most ``--concurrency`` crawls run at once; the next starts as one ends.

Standard output is for ``run-due``: one JSON object per line, ``{"event": "started"|"finished", "portal", "run_id"}``
and, when finished, ``"exit"`` (the crawl's exit status, `crawler.report.verdict.Exit`) and ``"error"``. The exit
status of the command is the worst of its crawls' (as ``run-due``'s).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from crawler.cli.common import CliError, Exit
from crawler.cli.inputs import check_crawl_input, parse_settings
from crawler.cli.recurring import SEVERITY, prepare_crawl
from crawler.cli.run import CrawlJob, run_crawls, verdict_of


def parse_job(text: str) -> tuple[str, int, str]:
    """``PORTAL,EXPECT_LAST_RUN,RUN_ID`` (what run-due passes for each due portal)."""
    parts = text.split(",")
    if len(parts) != 3 or not parts[1].isdigit() or not parts[0] or not parts[2]:
        raise CliError(f"--job {text!r}: expected PORTAL,EXPECT_LAST_RUN,RUN_ID (e.g. --job example,3,r1)")
    return parts[0], int(parts[1]), parts[2]


def _emit(event: dict[str, Any]) -> None:
    print(json.dumps(event, ensure_ascii=False), flush=True)


def _job(args: argparse.Namespace, portal: str, expect_last_run: int, run_id: str) -> CrawlJob:
    """The crawl of one portal, from the registry, checked as ``crawler crawl`` checks it (raises CliError)."""
    crawl_args = argparse.Namespace(
        start_url=None, portal=portal, portals=args.portals, out=str(Path(args.archive_root) / portal), delay=None,
        allowed_hosts=None, asset_hosts=None, set=args.set, state=args.state, refresh=False)
    check_crawl_input(crawl_args)
    extra: dict[str, Any] = {**parse_settings(args.set), "RECURRING_EXPECT_LAST_RUN": expect_last_run,
                             "RUN_ID": run_id}
    extra = prepare_crawl(crawl_args, extra)
    return CrawlJob(portal=portal, start_url=crawl_args.start_url, out_dir=Path(crawl_args.out),
                    delay=crawl_args.delay, allowed_hosts=crawl_args.allowed_hosts, extra=extra)


def cmd_crawl_batch(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise CliError(f"--concurrency expects a number >= 1, got {args.concurrency}")
    parse_settings(args.set)  # refused here, before any crawl starts
    wanted = [parse_job(text) for text in args.job or []]
    if not wanted:
        raise CliError("expected at least one --job PORTAL,EXPECT_LAST_RUN,RUN_ID")
    codes: list[int] = []
    jobs: list[CrawlJob] = []
    run_ids: dict[str, str] = {}
    for portal, expect_last_run, run_id in wanted:
        try:
            jobs.append(_job(args, portal, expect_last_run, run_id))
            run_ids[portal] = run_id
        except CliError as exc:  # one portal's registry entry or directory: the others still run
            codes.append(int(Exit.BAD_INPUT))
            _emit({"event": "finished", "portal": portal, "run_id": run_id, "exit": int(Exit.BAD_INPUT),
                   "error": str(exc)})

    def done(job: CrawlJob, stats: dict[str, Any] | None, error: str | None) -> None:
        if stats is None:
            code = int(Exit.BAD_INPUT)
        else:
            code = int(verdict_of(stats).exit_status)
            if error is not None and code == int(Exit.OK):
                code = int(Exit.PROBLEM)
        codes.append(code)
        _emit({"event": "finished", "portal": job.portal, "run_id": run_ids[job.portal], "exit": code,
               "error": error})

    for job in jobs:
        _emit({"event": "started", "portal": job.portal, "run_id": run_ids[job.portal]})
    log_dir = Path(args.archive_root) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    run_crawls(jobs, concurrency=args.concurrency, process_log=log_dir / f"crawl-batch-{os.getpid()}.log",
               on_done=done)
    present = set(codes) - {int(Exit.NOT_RUN)}
    return next((int(code) for code in SEVERITY if code in present), int(Exit.OK) if not present else int(Exit.PROBLEM))


def register(sub: Any) -> None:
    """Add ``crawl-batch`` to the subparsers."""
    batch = sub.add_parser("crawl-batch", help="crawl several registered portals in one process (run-due uses it)")
    batch.add_argument("--portals", default=None, help="portal registry (default: portals.toml)")
    batch.add_argument("--archive-root", default="output", help="portal P is archived in ROOT/P")
    batch.add_argument("--state", default=None, help="one state database for all (default: ROOT/P/state.sqlite)")
    batch.add_argument("--job", action="append", metavar="PORTAL,EXPECT_LAST_RUN,RUN_ID",
                       help="a portal to crawl (repeat); EXPECT_LAST_RUN is its last run id (0: none)")
    batch.add_argument("--concurrency", type=int, default=16, help="crawls running at the same time")
    batch.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a setting for every crawl")
    batch.set_defaults(func=cmd_crawl_batch)
