"""The crawl commands: ``crawl``, ``demo``, ``simulate``, ``extract``, ``replay``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.cli.common import EXIT_CRAWL_PROBLEM, EXIT_OK, CliError, check_writable_dir, parse_set
from crawler.cli.recurring import finish_crawl, prepare_crawl  # registry, state, recurring exit status


def crawl_settings(out_dir: Path, *, portal: str, delay: float | None, extra: dict[str, Any] | None = None,
                   ) -> dict[str, Any]:
    """Per-run setting overrides that place every output under ``out_dir``."""
    settings: dict[str, Any] = {
        "WARC_OUTPUT_DIR": str(out_dir / "warc"),
        "JSONL_OUTPUT_PATH": str(out_dir / "releases.jsonl"),
        "FAILURES_OUTPUT_PATH": str(out_dir / "failures.jsonl"),
        "PORTAL_ID": portal,
        "LOG_FILE": str(out_dir / "crawl.log"),
        "LOG_FILE_APPEND": True,
    }
    if delay is not None:
        settings["DOWNLOAD_DELAY"] = delay
    settings.update(extra or {})
    return settings


def run_crawl(start_url: str, out_dir: Path, *, portal: str, delay: float | None = None,
              extra: dict[str, Any] | None = None, allowed_hosts: str | None = None) -> dict[str, Any]:
    """Run one crawl in this process and return Scrapy's final stats."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    check_writable_dir(out_dir / "warc", "WARC output")
    settings = get_project_settings()
    for key, value in crawl_settings(out_dir, portal=portal, delay=delay, extra=extra).items():
        settings.set(key, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("hanweb")
    process.crawl(crawler, start_url=start_url, portal=portal, allowed_hosts=allowed_hosts)
    process.start()
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())


def _print_summary(stats: dict[str, Any], elapsed: float, out_dir: Path) -> None:
    from crawler.progress import summary_lines

    for line in summary_lines(stats, elapsed):
        print(line)
    warcs = sorted((out_dir / "warc").glob("*.warc.gz"))
    print(f"WARC files ({len(warcs)}): {out_dir / 'warc'}")
    for path in warcs[-3:]:
        print(f"  {path}")
    print(f"JSON Lines: {out_dir / 'releases.jsonl'}")
    print(f"crawl log:  {out_dir / 'crawl.log'}")


def _crawl_ok(stats: dict[str, Any]) -> bool:
    return stats.get("finish_reason") == "finished" and int(stats.get("item_scraped_count", 0) or 0) > 0


def cmd_crawl(args: argparse.Namespace) -> int:
    out_dir = Path(args.out)
    started = time.monotonic()
    extra: dict[str, Any] = parse_set(args.set)
    if args.asset_hosts is not None:
        from crawler.fetch.asset_scope import parse_asset_hosts

        try:
            extra["PORTAL_ASSET_HOSTS"] = sorted(parse_asset_hosts(args.asset_hosts, "--asset-hosts"))
        except ValueError as exc:
            raise CliError(str(exc)) from exc
    extra = prepare_crawl(args, extra)
    stats = run_crawl(args.start_url, out_dir, portal=args.portal, delay=args.delay,
                      allowed_hosts=args.allowed_hosts, extra=extra)
    _print_summary(stats, time.monotonic() - started, out_dir)
    return finish_crawl(stats, _crawl_ok(stats))


def cmd_demo(args: argparse.Namespace) -> int:
    from simulator.process import SimulatorProcess

    # Each demo serves the portal on a new port, so each run gets its own directory: nothing earlier is touched.
    out_dir = Path(args.out) / time.strftime("run-%Y%m%dT%H%M%SZ", time.gmtime())
    with SimulatorProcess(releases=args.releases, seed=args.seed, vary=args.vary) as sim:
        print(f"simulated portal: {sim.base_url} ({args.releases} releases)")
        started = time.monotonic()
        stats = run_crawl(sim.base_url, out_dir, portal="demo", delay=0.0,
                          extra={"CONCURRENT_REQUESTS_PER_DOMAIN": 8, "AUTOTHROTTLE_ENABLED": False,
                                 "RECURRING_ENABLED": False,  # a one-shot demonstration (a new port each time)
                                 "ARCHIVER_ALLOWED_IPS": [urlsplit(sim.base_url).netloc, *_asset_netlocs(sim)],
                                 "PORTAL_ASSET_HOSTS": [urlsplit(f"http://{a}").hostname for a in _asset_netlocs(sim)]})
        elapsed = time.monotonic() - started
        sim_stats = sim.stats()
    _print_summary(stats, elapsed, out_dir)
    print(f"hit-counter requests seen by the portal: {sim_stats.get('counter_hits')}"
          f"   robots-disallowed requests: {sim_stats.get('private_hits')}")
    return EXIT_OK if _crawl_ok(stats) else EXIT_CRAWL_PROBLEM


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
    from archives.warc_reader import warc_files
    from crawler.offline.replay import replay_to_jsonl

    try:
        files = warc_files(args.inputs)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from exc
    if not files:
        raise CliError(f"no WARC files in {' '.join(args.inputs)}")
    started = time.monotonic()
    report = replay_to_jsonl(files, args.out, portal=args.portal)
    elapsed = time.monotonic() - started
    rate = report.rows / elapsed if elapsed > 0 else 0.0
    print(f"replayed {len(files)} WARC file(s): {report.rows} releases in {elapsed:.1f} s ({rate:.0f}/s), "
          f"{report.dropped} dropped, {report.skipped_status} non-200 captures skipped -> {args.out}")
    return EXIT_OK if report.dropped == 0 else EXIT_CRAWL_PROBLEM


def register(sub: Any) -> None:
    """Add ``crawl``, ``demo``, ``simulate``, ``extract`` and ``replay`` to the ``crawler`` command's subparsers."""
    crawl = sub.add_parser("crawl", help="crawl one portal into WARC + JSON Lines")
    crawl.add_argument("--start-url", default=None,
                       help="the portal's home page or a column page (default: --portal's registry entry)")
    crawl.add_argument("--portal", default="demo", help="portal id, the prefix of every release_id")
    crawl.add_argument("--out", default="output/crawl", help="output directory (warc/, releases.jsonl)")
    crawl.add_argument("--delay", type=float, default=None, help="seconds between requests to a host")
    crawl.add_argument("--allowed-hosts", default=None, help="comma-separated hosts (default: the start URL's)")
    crawl.add_argument("--asset-hosts", default=None,
                       help="comma-separated hosts serving the portal's attachments and page requisites "
                            "(e.g. its object store); only those are fetched there, one hop (PORTAL_ASSET_HOSTS)")
    crawl.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a Scrapy setting")
    crawl.set_defaults(func=cmd_crawl)

    demo = sub.add_parser("demo", help="crawl the bundled simulated portal on 127.0.0.1")
    demo.add_argument("--releases", type=int, default=300)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--vary", type=int, default=None, metavar="SEED",
                      help="a portal drawn from the space of real template variants (docs/simulator.md)")
    demo.add_argument("--out", default="output/demo", help="parent directory; each run writes to run-TIMESTAMP/")
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
    replay.set_defaults(func=cmd_replay)
