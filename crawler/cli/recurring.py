"""The recurring-crawl commands: ``portals``, ``due``, ``run-due``, ``export-state``, ``recover``, and the
registry side of ``crawl --portal ID`` (`prepare_crawl`, `finish_crawl`).

Exit statuses: `crawler.report.verdict.Exit` (0 complete, 1 failed, 2 bad input, 3 finished but flagged: the
release count or the field coverage dropped sharply against the portal's previous run, 4 not run: another run
holds the portal, or crawled it since it was found due, 5 incomplete or interrupted). ``run-due`` exits with the
worst of its crawls' statuses (1 before 2 before 5 before 3 before 0; a portal another run held counts as 0).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from queue import Queue
from typing import Any

from archives.pointer import WarcPointer
from crawler.cli.common import EXIT_OK, CliError, Exit
from crawler.report.verdict import Verdict

DEFAULT_REGISTRY = "portals.toml"
#: The order in which run-due reports the worst of its crawls' exit statuses (a crawl not run counts as 0).
SEVERITY = (Exit.PROBLEM, Exit.BAD_INPUT, Exit.INCOMPLETE, Exit.FLAGGED, Exit.OK)


# -- crawl --portal ID ---------------------------------------------------------------------------------------

def _registry_path(args: argparse.Namespace) -> Path:
    if getattr(args, "portals", None):
        return Path(args.portals)
    from scrapy.utils.project import get_project_settings

    return Path(get_project_settings().get("PORTAL_REGISTRY") or DEFAULT_REGISTRY)


def _load(args: argparse.Namespace) -> dict[str, Any]:
    from crawler.recurring.portals import PortalConfigError, load_registry

    try:
        return load_registry(_registry_path(args))
    except PortalConfigError as exc:
        raise CliError(str(exc)) from exc


def prepare_crawl(args: argparse.Namespace, extra: dict[str, Any]) -> dict[str, Any]:
    """Fill a ``crawl`` from the registry when no --start-url is given; add the recurring settings."""
    if args.start_url is None:
        portals = _load(args)
        if args.portal not in portals:
            raise CliError(f"no portal {args.portal!r} in {_registry_path(args)} "
                           f"(registered: {', '.join(portals) or 'none'}); give --start-url or register it")
        portal = portals[args.portal]
        args.start_url = ",".join(portal.start_urls)
        args.allowed_hosts = args.allowed_hosts or ",".join(portal.allowed_hosts)
        if args.delay is None:
            args.delay = portal.delay
        settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": portal.concurrency,
                    "RECURRING_REFRESH_WINDOW_DAYS": portal.refresh_window.total_seconds() / 86400}
        if portal.asset_hosts:
            settings["PORTAL_ASSET_HOSTS"] = list(portal.asset_hosts)
        if portal.allowed_ips:
            settings["ARCHIVER_ALLOWED_IPS"] = list(portal.allowed_ips)
        extra = {**settings, **extra}
    if getattr(args, "state", None):
        extra["STATE_PATH"] = args.state
    if getattr(args, "refresh", False):
        extra["RECURRING_REFRESH"] = True
    return extra


def recurring_summary(stats: dict[str, Any]) -> list[str]:
    """What the recurring machinery did in a run, from Scrapy's stats."""
    if "recurring/run_id" not in stats:
        return []

    def n(key: str) -> int:
        return int(stats.get(f"recurring/{key}", 0) or 0)

    lines = [
        f"run {n('run_id')}: listed {n('listed')}   new {n('new')}   changed {n('changed')}   unchanged "
        f"{n('unchanged')}   hits events {n('events/hits_changed')}   removed {n('removed')}",
        f"conditional requests {n('conditional_requests')}   304 {n('not_modified')}   revisits written "
        f"{int(stats.get('warc/revisits', 0) or 0)}   not re-requested: old {n('skipped_old')}, "
        f"archived before the interruption {n('resume_skipped')}",
    ]
    if stats.get("recurring/flagged"):
        lines.append(f"FLAGGED: {stats['recurring/flagged']} (see the run record: crawler portals)")
    return lines


def finish_crawl(stats: dict[str, Any], verdict: Verdict) -> int:
    """Print the recurring summary; the exit status of a crawl is its verdict's."""
    for line in recurring_summary(stats):
        print(line)
    return int(verdict.exit_status)


# -- portals, due, run-due ------------------------------------------------------------------------------------

def _state_path(args: argparse.Namespace, portal_id: str) -> Path:
    return Path(args.state) if args.state else Path(args.archive_root) / portal_id / "state.sqlite"


def _last_run(args: argparse.Namespace, portal_id: str) -> Any:
    from crawler.recurring.state import CrawlState, StateError

    path = _state_path(args, portal_id)
    if not path.exists():
        return None
    try:
        state = CrawlState(path)
    except StateError as exc:
        raise CliError(str(exc)) from exc
    try:
        return state.last_run(portal_id)
    finally:
        state.close()


def _schedule_rows(args: argparse.Namespace) -> Iterator[tuple[Any, Any, datetime, bool]]:
    from crawler.recurring.state import parse_iso

    now = datetime.now(UTC)
    for portal in _load(args).values():
        last = _last_run(args, portal.id)
        started = parse_iso(last["started_at"]) if last else None
        due_at = portal.schedule.next_due(started, now)
        yield portal, last, due_at, portal.enabled and due_at <= now


def cmd_portals(args: argparse.Namespace) -> int:
    rows = list(_schedule_rows(args))
    print(f"{'id':<16} {'enabled':<7} {'schedule':<14} {'last run':<34} next due")
    for portal, last, due_at, due in rows:
        last_text = f"{last['started_at'][:19]}Z {last['outcome'] or 'running'}" if last else "never"
        due_text = "now" if due else (due_at.strftime("%Y-%m-%dT%H:%M:%SZ") if portal.enabled else "-")
        print(f"{portal.id:<16} {'yes' if portal.enabled else 'no':<7} {portal.schedule.text:<14} "
              f"{last_text:<34} {due_text}")
    return EXIT_OK


def cmd_due(args: argparse.Namespace) -> int:
    for portal, _last, _due_at, due in _schedule_rows(args):
        if due:
            print(portal.id)
    return EXIT_OK


def crawl_command(args: argparse.Namespace, portal_id: str, expect_last_run: int, run_id: str = "") -> list[str]:
    """The ``crawler crawl`` command line run-due starts for one portal."""
    command = [sys.executable, "-m", "crawler.cli", "crawl", "--portal", portal_id, "--portals",
               str(_registry_path(args)), "--out", str(Path(args.archive_root) / portal_id),
               "--set", f"RECURRING_EXPECT_LAST_RUN={expect_last_run}"]
    if run_id:
        command += ["--set", f"RUN_ID={run_id}"]
    return command + _shared_options(args)


def cmd_run_due(args: argparse.Namespace) -> int:
    """Crawl every due portal, at most --parallel at a time, spread over --processes crawl processes (`crawler
    crawl-batch`: several portals per process); one timestamped line per portal with its outcome, its counts and its
    main failure reason (from the run's report.json)."""
    from crawler.cli.inputs import parse_settings
    from crawler.wiring import new_run_id

    if args.parallel < 1:
        raise CliError(f"--parallel expects a number >= 1, got {args.parallel}")
    if args.processes is not None and args.processes < 1:
        raise CliError(f"--processes expects a number >= 1, got {args.processes}")
    parse_settings(args.set)  # refused here, before any crawl starts
    queue = [(portal.id, last["run_id"] if last else 0) for portal, last, _d, due in _schedule_rows(args) if due]
    if not queue:
        print(f"{_now()} no portal is due", flush=True)
        return EXIT_OK
    count = min(args.processes or os.cpu_count() or 1, args.parallel, len(queue))
    events: Queue[tuple[int, dict[str, Any] | None]] = Queue()
    children: list[tuple[subprocess.Popen[str], set[str]]] = []
    run_ids: dict[str, str] = {}
    for index in range(count):
        group = [(portal, last, new_run_id()) for portal, last in queue[index::count]]
        run_ids.update({portal: run_id for portal, _last, run_id in group})
        concurrency = args.parallel // count + (1 if index < args.parallel % count else 0)
        child = subprocess.Popen(batch_command(args, group, concurrency), stdout=subprocess.PIPE, text=True,
                                 encoding="utf-8")
        children.append((child, {portal for portal, _l, _r in group}))
        threading.Thread(target=_read_events, args=(index, child, events), daemon=True).start()
    results: dict[str, int] = {}
    open_children = len(children)
    while open_children:
        index, event = events.get()
        if event is None:  # that process ended: any portal it did not report on failed with it
            open_children -= 1
            code = children[index][0].wait()
            for portal in sorted(children[index][1] - set(results)):
                results[portal] = code if code not in (0, int(Exit.NOT_RUN)) else int(Exit.PROBLEM)
                line = run_line(Path(args.archive_root) / portal, run_ids[portal], results[portal])
                print(f"{_now()} {portal}: {line} (its crawl process ended with status {code})", flush=True)
        elif event.get("event") == "started":
            print(f"{_now()} {event['portal']}: crawling (run {event['run_id']})", flush=True)
        elif event.get("event") == "finished" and event.get("portal") in run_ids:
            portal, code = str(event["portal"]), int(event["exit"])
            results[portal] = code
            line = run_line(Path(args.archive_root) / portal, run_ids[portal], code)
            if event.get("error") and code == int(Exit.BAD_INPUT):
                line += f": {event['error']}"
            print(f"{_now()} {portal}: {line}", flush=True)
    codes = set(results.values()) - {int(Exit.NOT_RUN)}  # another run had it, or crawled it since: not a problem
    return next((int(code) for code in SEVERITY if code in codes), int(Exit.OK) if not codes else int(Exit.PROBLEM))


def batch_command(args: argparse.Namespace, group: list[tuple[str, int, str]], concurrency: int) -> list[str]:
    """The ``crawler crawl-batch`` command line run-due starts for a group of portals."""
    command = [sys.executable, "-m", "crawler.cli", "crawl-batch", "--portals", str(_registry_path(args)),
               "--archive-root", str(args.archive_root), "--concurrency", str(concurrency)]
    for portal, last_run, run_id in group:
        command += ["--job", f"{portal},{last_run},{run_id}"]
    return command + _shared_options(args)


def _shared_options(args: argparse.Namespace) -> list[str]:
    """run-due's --state and --set, passed on to the crawls it starts."""
    options = ["--state", args.state] if args.state else []
    for pair in args.set or []:
        options += ["--set", pair]
    return options


def _read_events(index: int, child: subprocess.Popen[str], events: Queue[tuple[int, dict[str, Any] | None]]) -> None:
    """Pass a crawl-batch process's JSON lines to run-due's loop; None when the process closed its output."""
    assert child.stdout is not None
    for line in child.stdout:
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                events.put((index, event))
    events.put((index, None))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_line(out_dir: Path, run_id: str, code: int) -> str:
    """One portal's line in run-due's log: outcome, exit status, counts, main failure reason."""
    report: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        report = json.loads((out_dir / "report.json").read_text("utf-8"))
    if report.get("run_id") != run_id:  # no report of this run (not run, bad input, killed)
        words = {int(Exit.NOT_RUN): "not run (another run holds the portal, or crawled it since it was due)",
                 int(Exit.BAD_INPUT): "bad input (see the registry entry)"}
        return f"{words.get(code, 'failed')} (exit {code}); no report of this run"
    verdict, releases = report["verdict"], report["releases"]
    reasons = report["failures"]["by_reason"]
    main = max(reasons, key=reasons.get) if reasons else "-"
    return (f"{verdict['outcome']} (exit {code}): {releases['learnt']} listed, {releases['archived']} archived, "
            f"{releases['failed']} failed, {releases['skipped']} skipped; main failure reason: {main}"
            + ("" if verdict["outcome"] == "complete" else f"; {verdict['reason']}"))


# -- export-state, recover ------------------------------------------------------------------------------------

EXPORT_FIELDS = ("release_id", "portal", "url", "first_seen", "last_seen", "removed_at", "hits", "fingerprint",
                 "latest_type", "latest_filename", "latest_offset", "latest_length", "latest_record_id",
                 "orig_filename", "orig_offset", "orig_length", "orig_record_id")


def cmd_export_state(args: argparse.Namespace) -> int:
    from crawler.recurring.state import CrawlState, StateError

    path = Path(args.state)
    if not path.is_file():
        raise CliError(f"no crawl state at {path}")
    try:
        state = CrawlState(path)
    except StateError as exc:
        raise CliError(str(exc)) from exc
    count = 0
    target = open(args.output, "w", encoding="utf-8", newline="") if args.output else nullcontext(sys.stdout)  # noqa: SIM115
    with target as out:
        try:
            writer = csv.writer(out) if args.format == "csv" else None
            if writer is not None:
                writer.writerow(EXPORT_FIELDS)
            for row in state.releases(args.portal):
                if writer is not None:
                    writer.writerow([row[k] for k in EXPORT_FIELDS])
                else:
                    out.write(json.dumps(export_record(row), ensure_ascii=False) + "\n")
                count += 1
        finally:
            state.close()
    print(f"exported {count} releases" + (f" to {args.output}" if args.output else ""), file=sys.stderr)
    return EXIT_OK


def export_record(row: Any) -> dict[str, Any]:
    """One release of the state as researchers get it (JSONL form)."""
    return {
        "release_id": row["release_id"], "portal": row["portal"], "url": row["url"],
        "first_seen": row["first_seen"], "last_seen": row["last_seen"], "removed_at": row["removed_at"],
        "hits": row["hits"], "fingerprint": row["fingerprint"],
        "latest_capture": {"type": row["latest_type"], **WarcPointer.from_state(row, "latest").location()},
        "original_capture": WarcPointer.from_state(row).row(),
    }


def cmd_recover(args: argparse.Namespace) -> int:
    from crawler.recurring.recover import recover_dir

    try:
        report = recover_dir(args.directory)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from exc
    for name, kept, cut in report.recovered:
        print(f"recovered {name}: kept {kept} bytes, cut {cut}")
    for path in report.removed_empty:
        print(f"removed empty {path}")
    for path in report.skipped_live:
        print(f"left alone (a live run holds it): {path}")
    for path in report.jsonl_skipped_live:
        print(f"left alone (a live run holds its directory): {path}")
    print(f"{len(report.recovered)} WARC file(s) recovered, {len(report.jsonl_checked)} JSONL file(s) checked")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add the recurring-crawl subcommands, and the registry options of ``crawl``."""
    crawl = sub.choices["crawl"]
    crawl.add_argument("--portals", default=None, help="portal registry (default: PORTAL_REGISTRY, portals.toml); "
                       "without --start-url, --portal ID is crawled from its registry entry")
    crawl.add_argument("--state", default=None, help="crawl state database (default: OUT/state.sqlite)")
    crawl.add_argument("--refresh", action="store_true",
                       help="re-request every known release conditionally, however old")

    def schedule_args(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--portals", default=None, help="portal registry (default: portals.toml)")
        parser.add_argument("--archive-root", default="output", help="portal P is archived in ROOT/P")
        parser.add_argument("--state", default=None, help="one state database for all (default: ROOT/P/state.sqlite)")

    portals = sub.add_parser("portals", help="list the registered portals, their last run and next due time")
    schedule_args(portals)
    portals.set_defaults(func=cmd_portals)
    due = sub.add_parser("due", help="print the ids of the portals due now")
    schedule_args(due)
    due.set_defaults(func=cmd_due)
    run_due = sub.add_parser("run-due", help="crawl the portals due now (several per crawl process)")
    schedule_args(run_due)
    run_due.add_argument("--parallel", type=int, default=1, help="portals crawled at the same time")
    run_due.add_argument("--processes", type=int, default=None,
                         help="crawl processes the portals are spread over (default: one per core, at most --parallel)")
    run_due.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a Scrapy setting")
    run_due.set_defaults(func=cmd_run_due)
    export = sub.add_parser("export-state", help="write every release's state (seen, removed, latest capture)")
    export.add_argument("--state", required=True, help="the crawl state database (OUT/state.sqlite)")
    export.add_argument("--portal", default=None, help="only this portal")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", default=None, help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export_state)
    recover = sub.add_parser("recover", help="recover .open WARCs and partial JSONL lines a killed crawl left")
    recover.add_argument("directory", help="an output directory (searched recursively)")
    recover.set_defaults(func=cmd_recover)
