"""The ``crawler`` command: crawl, demo, simulate, extract (and the archive tools that build on them)."""

from __future__ import annotations

import argparse
import os
import sys

from crawler.cli import archive, batch, crawl, export, recurring, scaleout
from crawler.cli.common import EXIT_BAD_INPUT, CliError

#: the archiver's settings module (scrapy.cfg's ``default``, the ``scrapy`` entry point scrapyd reads)
SETTINGS_MODULE = "crawler.settings"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crawler", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    crawl.register(sub)
    archive.register(sub)
    recurring.register(sub)
    batch.register(sub)
    scaleout.register(sub)  # worker, queue-status, reassign; --queue of run-due
    export.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``crawler`` console script."""
    # The project's settings whatever the working directory: Scrapy finds them through the nearest scrapy.cfg, and
    # run from elsewhere it silently used its defaults (no pipelines, no WARC capture, rows without their fields).
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", SETTINGS_MODULE)
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"crawler {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

