"""What every ``crawler`` subcommand shares: the exit statuses (one list), the input error, small argument helpers."""

from __future__ import annotations

import os
from pathlib import Path

from crawler.errors import CrawlerError
from crawler.report.verdict import Exit  # the one list of exit statuses (crawler/report/verdict.py)

EXIT_OK = Exit.OK
EXIT_CRAWL_PROBLEM = EXIT_PROBLEM = Exit.PROBLEM
EXIT_BAD_INPUT = Exit.BAD_INPUT
EXIT_FLAGGED = Exit.FLAGGED
EXIT_NOT_RUN = Exit.NOT_RUN
EXIT_INCOMPLETE = Exit.INCOMPLETE
__all__ = ["EXIT_BAD_INPUT", "EXIT_CRAWL_PROBLEM", "EXIT_FLAGGED", "EXIT_INCOMPLETE", "EXIT_NOT_RUN", "EXIT_OK",
           "EXIT_PROBLEM", "CliError", "Exit", "check_writable_dir", "parse_set"]


class CliError(CrawlerError):
    """A problem with the command's input, reported as one clear line and exit status 2."""


def check_writable_dir(path: Path, what: str) -> None:
    """Fail before the first request when the output directory cannot be written."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create the {what} directory {path}: {exc.strerror}") from exc
    probe = path / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CliError(f"the {what} directory {path} is not writable: {exc.strerror}") from exc


def parse_set(pairs: list[str] | None) -> dict[str, str]:
    """``--set NAME=VALUE`` options as a dict; CliError for anything else."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise CliError(f"--set expects NAME=VALUE, got {pair!r}")
        result[name] = value
    return result
