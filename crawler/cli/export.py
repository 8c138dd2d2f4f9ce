"""``crawler export``: the releases of crawl directories as one typed Parquet, CSV or JSONL file, and their dataset
cards (docs/loading.md)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crawler.cli.common import EXIT_OK, CliError


def cmd_export(args: argparse.Namespace) -> int:
    """Check every input first, then write the file (under a temporary name, renamed when complete)."""
    from crawler.export.card import CardOptions, write_card
    from crawler.export.source import ExportInputError, open_crawl
    from crawler.export.write import FORMATS, export

    if args.format not in FORMATS:
        raise CliError(f"--format {args.format!r}: unknown format (expected one of {', '.join(FORMATS)})")
    if args.output is None and not args.card:
        raise CliError("no -o FILE (expected -o FILE to write the export, or --card to write the dataset cards)")
    try:
        crawls = [open_crawl(path) for path in args.out_dirs]
        if args.output is not None:
            result = export(crawls, args.format, Path(args.output), latest=args.latest)
            dropped = f", {result.rows_dropped} older captures left out (--latest)" if args.latest else ""
            print(f"exported {result.rows} rows from {result.crawls} crawl(s) to {result.path} "
                  f"({result.format}{dropped}) in {result.seconds:.1f} s")
        if args.card:
            for crawl in crawls:
                written = write_card(crawl, CardOptions(terms=args.terms or "", license=args.license or ""))
                print("wrote " + " and ".join(str(path) for path in written))
    except ExportInputError as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"{exc.filename or args.output}: {exc.strerror} (expected readable crawl directories and a "
                       "writable -o FILE)") from exc
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``export`` to the subparsers."""
    parser = sub.add_parser("export", help="releases of crawl directories as one Parquet, CSV or JSONL file",
                            description="Export the release rows of one or more crawl output directories (recurring "
                                        "runs of one portal, or many portals) as one typed table (docs/loading.md).")
    parser.add_argument("out_dirs", nargs="+", metavar="OUT", help="a crawl's output directory (crawl --out)")
    parser.add_argument("--format", default="parquet", help="parquet (default), csv or jsonl")
    parser.add_argument("--latest", action="store_true",
                        help="one row per release_id: the capture with the latest fetched_at")
    parser.add_argument("-o", "--output", default=None, metavar="FILE", help="the file to write")
    parser.add_argument("--card", action="store_true",
                        help="(re)write each OUT's dataset card: OUT/datapackage.json and OUT/README.md")
    parser.add_argument("--terms", default=None, help="with --card: the terms note (default: the card's own)")
    parser.add_argument("--license", default=None,
                        help="with --card: a licence id such as CC-BY-4.0, or its URL (default: the card's)")
    parser.set_defaults(func=cmd_export)



