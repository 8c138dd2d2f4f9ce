"""Archive subcommands of ``crawler``: ``index`` (sorted CDXJ), ``wacz`` (package), ``verify`` (check a crawl).

``crawler.cli.main.build_parser`` calls :func:`register`. Exit status (`crawler.cli.common.Exit`): 0 when all is
well, 1 when ``verify`` finds problems or packaging fails, 2 for bad input (a missing directory, a file that is
not a WARC), with one message naming the input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from crawler.cli.common import EXIT_OK, EXIT_PROBLEM, CliError


def cmd_index(args: argparse.Namespace) -> int:
    from archives.cdxj import ArchiveInputError, write_cdxj

    try:
        lines = write_cdxj(args.inputs, args.output, post_append=not args.no_post_append)
    except ArchiveInputError as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"{exc.filename or args.output}: {exc.strerror or exc}") from exc
    print(f"wrote {lines} sorted CDXJ lines to {args.output}")
    return EXIT_OK


def cmd_wacz(args: argparse.Namespace) -> int:
    from archives.cdxj import ArchiveInputError
    from archives.wacz_package import WaczError, package_crawl

    try:
        result = package_crawl(args.crawl_dir, args.output, title=args.title)
    except ArchiveInputError as exc:
        raise CliError(str(exc)) from exc
    except WaczError as exc:
        print(f"crawler wacz: failed: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    print(f"wrote {result.path} ({result.size} bytes): {result.pages} pages, "
          f"{len(result.warc_files)} WARC file(s); wacz validate: OK")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from archives.cdxj import ArchiveInputError
    from archives.verify import verify_crawl
    from pipelines.validate import row_problem

    try:
        report = verify_crawl(args.crawl_dir, row_problem)
    except ArchiveInputError as exc:
        raise CliError(str(exc)) from exc
    for line in report.summary_lines(max_problems=args.max_problems):
        print(line)
    return EXIT_OK if report.ok else EXIT_PROBLEM


def cmd_recrawl(args: argparse.Namespace) -> int:
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawler.cli.inputs import check_warc_inputs
    from crawler.report.verdict import decide

    files = [str(path) for path in check_warc_inputs(args.inputs, args.out)]
    settings = get_project_settings()
    handler = "archives.components.replay_handler.WarcReplayDownloadHandler"
    overrides = {
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "REPLAY_WARC_PATHS": files,
        "WARC_ENABLED": False,  # replayed responses are never archived again
        "JSONL_OUTPUT_PATH": args.out,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
        "PORTAL_ID": args.portal,
        "LOG_LEVEL": "WARNING",
    }
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("hanweb")
    process.crawl(crawler, start_url=args.start_url, portal=args.portal)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    verdict = decide(stats)  # as a crawl's: a recrawl that could not reach every release says so and fails
    print(f"recrawled from {len(files)} WARC file(s): {stats.get('replay/served', 0)} requests served, "
          f"{stats.get('replay/not_captured', 0)} not captured, {stats.get('item_scraped_count', 0)} releases "
          f"-> {args.out}\n{verdict.headline}")
    return verdict.exit_status


def register(subparsers: Any) -> None:
    """Add ``index``, ``wacz``, ``verify`` and ``recrawl`` to the ``crawler`` command's subparsers."""
    index = subparsers.add_parser("index", help="write a sorted CDXJ index of WARC files (POST bodies in the key)")
    index.add_argument("inputs", nargs="+", metavar="WARC_OR_DIR", help="WARC files or directories holding them")
    index.add_argument("-o", "--output", required=True, metavar="FILE.cdxj", help="the index to write")
    index.add_argument("--no-post-append", action="store_true",
                       help="do not key POST requests with their body (not replayable by method and body)")
    index.set_defaults(func=cmd_index)

    wacz = subparsers.add_parser("wacz", help="package a crawl directory as WACZ (pages from releases.jsonl)")
    wacz.add_argument("crawl_dir", metavar="DIR", help="a crawl output directory (warc/, releases.jsonl)")
    wacz.add_argument("-o", "--output", required=True, metavar="FILE.wacz")
    wacz.add_argument("--title", default=None, help="title of the page list")
    wacz.set_defaults(func=cmd_wacz)

    verify = subparsers.add_parser("verify", help="check a crawl's WARCs, fixity manifest and JSONL pointers")
    verify.add_argument("crawl_dir", metavar="DIR", help="a crawl output directory (warc/, releases.jsonl)")
    verify.add_argument("--max-problems", type=int, default=100, help="print at most this many problems")
    verify.set_defaults(func=cmd_verify)

    recrawl = subparsers.add_parser(
        "recrawl", help="re-run the spider's whole crawl against WARC files instead of the network")
    recrawl.add_argument("inputs", nargs="+", metavar="WARC_OR_DIR")
    recrawl.add_argument("--start-url", required=True, help="the start URL of the archived crawl")
    recrawl.add_argument("--out", required=True, help="JSON Lines file to write")
    recrawl.add_argument("--portal", default="demo", help="portal id, the prefix of every release_id")
    recrawl.set_defaults(func=cmd_recrawl)
