"""What every ``crawler`` subcommand shares: the exit statuses (one list), the input error, small argument helpers."""

from __future__ import annotations

import os
from enum import IntEnum
from pathlib import Path

from crawler.errors import CrawlerError


class Exit(IntEnum):
    """Exit statuses of the ``crawler`` command, the one list of them."""

    #: done, all is well
    OK = 0
    #: a crawl problem (no release archived, a failed close), ``verify`` found problems, packaging failed
    PROBLEM = 1
    #: bad input: a missing directory, a file that is not a WARC, a bad option value (one line on stderr)
    BAD_INPUT = 2
    #: finished but flagged: the release count or the field coverage dropped sharply against the previous run
    FLAGGED = 3
    #: not crawled: another run holds the portal, or crawled it since it was found due
    NOT_RUN = 4


EXIT_OK = Exit.OK
EXIT_CRAWL_PROBLEM = EXIT_PROBLEM = Exit.PROBLEM
EXIT_BAD_INPUT = Exit.BAD_INPUT
EXIT_FLAGGED = Exit.FLAGGED
EXIT_NOT_RUN = Exit.NOT_RUN


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
