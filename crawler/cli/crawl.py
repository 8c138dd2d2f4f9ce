"""The crawl commands: ``crawl``, ``demo``, ``simulate``, ``extract``, ``replay``, ``report``."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.cli.common import EXIT_CRAWL_PROBLEM, EXIT_OK, CliError
from crawler.cli.inputs import check_crawl_input, check_start_urls, check_warc_inputs, parse_settings
from crawler.cli.recurring import finish_crawl, prepare_crawl  # registry, state, recurring summary
from crawler.cli.run import crawl_settings, run_crawl, summary_lines, verdict_of

__all__ = ["crawl_settings", "register", "run_crawl"]


def cmd_crawl(args: argparse.Namespace) -> int:
    check_crawl_input(args)  # nothing is written before this passes
    out_dir = Path(args.out)
    extra: dict[str, Any] = parse_settings(args.set)
    if args.asset_hosts is not None:
        from crawler.fetch.asset_scope import parse_asset_hosts

        try:
            extra["PORTAL_ASSET_HOSTS"] = sorted(parse_asset_hosts(args.asset_hosts, "--asset-hosts"))
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    extra = prepare_crawl(args, extra)
    check_start_urls(args.start_url)
    from crawler.wiring import new_run_id

    extra.setdefault("RUN_ID", new_run_id())
    started = time.monotonic()
    stats = run_crawl(args.start_url, out_dir, portal=args.portal, delay=args.delay,
                      allowed_hosts=args.allowed_hosts, extra=extra)
    verdict = verdict_of(stats)
    for line in summary_lines(stats, verdict, time.monotonic() - started, out_dir):
        print(line)
    return finish_crawl(stats, verdict)


def _previous_demo(out_dir: Path) -> None:
    """Move an earlier demo's output aside (``DIR.previous``): each demo serves the portal on a new port."""
    if not out_dir.exists() or not any(out_dir.iterdir()):
        return
    from crawler.cli.inputs import out_dir_portal

    held = out_dir_portal(out_dir)
    if held not in (None, "demo"):
        raise CliError(f"--out {out_dir}: it holds a crawl of portal {held!r}; the demo needs a directory of its own")
    aside = out_dir.with_name(out_dir.name + ".previous")
    if aside.exists():
        shutil.rmtree(aside)
    out_dir.rename(aside)
    print(f"the earlier demo output is now {aside}")


def next_commands(out_dir: Path) -> list[str]:
    """What to run next on a demo's output (the quick starts of README.md and docs/, for this directory)."""
    bin_dir = Path(sys.executable).parent
    crawler = f"{bin_dir / 'crawler'}"
    with contextlib.suppress(ValueError):
        crawler = str(Path(crawler).relative_to(Path.cwd()))
    out = str(out_dir)
    return [
        f"{crawler} verify {out}                              # digests, fixity, rows and pointers",
        f"{crawler} replay {out}/warc --out {out}/replayed.jsonl   # the rows again, from the WARC files alone",
        f"{crawler} report {out}                              # report.json + report.html again, from the outputs",
        f"{crawler} index {out}/warc -o {out}/demo.cdxj        # sorted CDXJ (POST bodies in the key)",
        f"{crawler} wacz {out} -o {out}/demo.wacz              # WACZ package",
        f"{crawler} export-state --state {out}/state.sqlite --format csv   # every release: seen, latest capture",
        f"open {out}/report.html                                # the report: verdict, columns, plots",
        "replay in pywb: docs/replay.md (wb-manager add demo " + f"{out}/warc/*.warc.gz)",
    ]


def cmd_demo(args: argparse.Namespace) -> int:
    from crawler.wiring import new_run_id
    from simulator.process import SimulatorProcess

    out_dir = Path(args.out)
    _previous_demo(out_dir)
    with SimulatorProcess(releases=args.releases, seed=args.seed, vary=args.vary) as sim:
        print(f"simulated portal: {sim.base_url} ({args.releases} releases)")
        started = time.monotonic()
        stats = run_crawl(sim.base_url, out_dir, portal="demo", delay=0.0,
                          extra={"CONCURRENT_REQUESTS_PER_DOMAIN": 8, "AUTOTHROTTLE_ENABLED": False,
                                 "RUN_ID": new_run_id(),
                                 "ARCHIVER_ALLOWED_IPS": [urlsplit(sim.base_url).netloc, *_asset_netlocs(sim)],
                                 "PORTAL_ASSET_HOSTS": [urlsplit(f"http://{a}").hostname for a in _asset_netlocs(sim)]})
        elapsed = time.monotonic() - started
        sim_stats = sim.stats()
    verdict = verdict_of(stats)
    for line in summary_lines(stats, verdict, elapsed, out_dir):
        print(line)
    print(f"hit-counter requests seen by the portal: {sim_stats.get('counter_hits')}"
          f"   robots-disallowed requests: {sim_stats.get('private_hits')}")
    print("next:")
    for line in next_commands(out_dir):
        print(f"  {line}")
    return int(verdict.exit_status)


def _asset_netlocs(sim: Any) -> list[str]:
    """The simulated object store's host:port, when it serves one."""
    return [sim.asset_host] if sim.asset_host else []


def cmd_simulate(args: argparse.Namespace) -> int:
    from simulator.server import main as simulator_main

    argv = ["--port", str(args.port), "--releases", str(args.releases), "--seed", str(args.seed),
            "--host", args.host]
    if args.vary is not None:
        argv += ["--vary", str(args.vary)]
    if args.truth:
        argv += ["--truth", args.truth]
    return int(simulator_main(argv) or 0)


def cmd_extract(args: argparse.Namespace) -> int:
    from crawler.offline.extract import extract_page

    path = Path(args.page)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read page {path}: {exc.strerror}") from exc
    record = extract_page(body, args.url, portal=args.portal, content_type=args.content_type)
    print(json.dumps(record, ensure_ascii=False, indent=None if args.compact else 2))
    from pipelines.validate import error_path, first_error

    error = first_error(record)
    if error is not None:
        print(f"crawler extract: warning: the record does not validate at {error_path(error)}: {error.message}",
              file=sys.stderr)
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from archives.warc_reader import UnreadableWarc
    from crawler.offline.replay import default_jobs, replay_to_jsonl

    files = check_warc_inputs(args.inputs, args.out)
    started = time.monotonic()
    try:
        report = replay_to_jsonl(files, args.out, portal=args.portal, jobs=args.jobs or default_jobs())
    except UnreadableWarc as exc:
        raise CliError(f"{' '.join(args.inputs)}: a WARC file holds something that is not a WARC record ({exc}); "
                       f"{args.out} is left as it was (`crawler verify DIR` checks a crawl's WARC files record by "
                       "record)") from exc
    elapsed = time.monotonic() - started
    rate = report.rows / elapsed if elapsed > 0 else 0.0
    print(f"replayed {len(files)} WARC file(s): {report.rows} releases in {elapsed:.2f} s ({rate:.0f}/s), "
          f"{report.dropped} dropped, {report.skipped_status} non-200 captures skipped -> {args.out}")
    return EXIT_OK if report.dropped == 0 else EXIT_CRAWL_PROBLEM


def _jobs(text: str) -> int:
    """``--jobs``: a whole number of worker processes, at least 1."""
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of jobs, at least 1: {text!r}")
    return jobs


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild ``report.json`` and ``report.html`` of a crawl from its outputs alone."""
    from crawler.report.build import ReportPaths, build_report
    from crawler.report.write import write_report

    out_dir = Path(args.out_dir)
    paths = ReportPaths.of(out_dir)
    if not out_dir.is_dir():
        raise CliError(f"{out_dir}: no such directory (expected a crawl's output directory, as given to --out)")
    if not (paths.releases.exists() or paths.warc_dir.is_dir() or paths.log.exists()):
        raise CliError(f"{out_dir}: no releases.jsonl, warc/ or crawl.log: not a crawl's output directory")
    started = time.monotonic()
    report = build_report(paths, rebuilt=True)
    json_path, html_path = write_report(out_dir, report)
    verdict = report["verdict"]
    print(f"{verdict['outcome'].upper().replace('_', ' ')}: {verdict['reason']}")
    for detail in verdict["details"]:
        print(f"  - {detail}")
    print(f"wrote {json_path} and {html_path} in {time.monotonic() - started:.1f} s"
          + ("" if report["stats_found"] else " (no stats in crawl.log: figures from the rows and WARC files)"))
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``crawl``, ``demo``, ``simulate``, ``extract``, ``replay`` and ``report`` to the subparsers."""
    crawl = sub.add_parser("crawl", help="crawl one portal into WARC + JSON Lines")
    crawl.add_argument("--start-url", default=None,
                       help="the portal's home page or a column page (default: --portal's registry entry)")
    crawl.add_argument("--portal", default=None,
                       help="portal id (a-z, 0-9, _ and -), the prefix of every release_id; required")
    crawl.add_argument("--out", default="output/crawl", help="output directory (warc/, releases.jsonl)")
    crawl.add_argument("--delay", type=float, default=None, help="seconds between requests to a host")
    crawl.add_argument("--allowed-hosts", default=None, help="comma-separated hosts (default: the start URL's)")
    crawl.add_argument("--asset-hosts", default=None,
                       help="comma-separated hosts serving the portal's attachments and page requisites "
                            "(e.g. its object store); only those are fetched there, one hop (PORTAL_ASSET_HOSTS)")
    crawl.add_argument("--set", action="append", metavar="NAME=VALUE",
                       help="override a setting (Scrapy's or crawler/settings.py's, of its type)")
    crawl.set_defaults(func=cmd_crawl)

    demo = sub.add_parser("demo", help="crawl the bundled simulated portal on 127.0.0.1")
    demo.add_argument("--releases", type=int, default=300)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--vary", type=int, default=None, metavar="SEED",
                      help="a portal drawn from the space of real template variants (docs/simulator.md)")
    demo.add_argument("--out", default="output/demo",
                      help="output directory (an earlier demo's output is moved to DIR.previous)")
    demo.set_defaults(func=cmd_demo)

    simulate = sub.add_parser("simulate", help="serve the simulated Hanweb portal")
    simulate.add_argument("--port", type=int, default=8000)
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--releases", type=int, default=300)
    simulate.add_argument("--seed", type=int, default=0)
    simulate.add_argument("--vary", type=int, default=None, metavar="SEED",
                          help="draw the templates from the space of real variants (docs/simulator.md)")
    simulate.add_argument("--truth", default=None, help="write the true fields as JSONL to this file and exit")
    simulate.set_defaults(func=cmd_simulate)

    extract = sub.add_parser("extract", help="print the record the pipelines make of one saved page")
    extract.add_argument("page", help="a saved release page (bytes as served)")
    extract.add_argument("--url", required=True, help="the URL the page was served from")
    extract.add_argument("--portal", default="demo")
    extract.add_argument("--content-type", default=None, help="the Content-Type header it was served with")
    extract.add_argument("--compact", action="store_true", help="one line instead of indented JSON")
    extract.set_defaults(func=cmd_extract)

    replay = sub.add_parser("replay", help="re-extract releases from WARC files alone (no network)")
    replay.add_argument("inputs", nargs="+", metavar="WARC_OR_DIR")
    replay.add_argument("--out", required=True, help="JSON Lines file to write (replaced)")
    replay.add_argument("--portal", default="demo", help="portal id, the prefix of every release_id")
    replay.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                        help="worker processes (default: the core count); the rows and their order do not depend on it")
    replay.set_defaults(func=cmd_replay)

    report = sub.add_parser("report", help="rebuild OUT/report.json and OUT/report.html from a crawl's outputs")
    report.add_argument("out_dir", metavar="OUT", help="a crawl's output directory (as given to crawl --out)")
    report.set_defaults(func=cmd_report)
