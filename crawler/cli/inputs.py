"""The checks of ``crawler crawl``'s input, before the first request and before anything is written.

Each bad input is refused with one line naming the input and the form expected (`CliError`, exit status 2):
a ``--portal`` id the registry would refuse, a ``--start-url`` without ``--portal``, a start URL without an http(s)
scheme or a host, an unknown or ill-typed ``--set`` (the known names are Scrapy's default settings and
``crawler/settings.py``; the type is the default's), an ``--out`` that holds another portal's crawl.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.cli.common import CliError, check_writable_dir

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def known_settings() -> dict[str, Any]:
    """Every setting name the crawler knows, with its default: Scrapy's defaults, then the project's."""
    from scrapy.settings import default_settings

    from crawler import settings as project

    known = {name: getattr(default_settings, name) for name in dir(default_settings) if name.isupper()}
    known.update({name: getattr(project, name) for name in dir(project) if name.isupper()})
    return known


def _typed(name: str, text: str, default: Any) -> Any:
    """*text* as the type of *default* (CliError naming the setting and the type when it is not one)."""
    def bad(expected: str) -> CliError:
        return CliError(f"--set {name}={text}: {name} expects {expected}")

    if isinstance(default, bool):
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise bad("true or false")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise bad("an integer (e.g. 8)") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise bad("a number (e.g. 0.5)") from None
    if isinstance(default, dict):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise bad('a JSON object (e.g. {"name": 100})')
        return value
    if isinstance(default, list | tuple) and text.strip().startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            raise bad("a comma-separated list or a JSON array") from None
        if not isinstance(value, list):
            raise bad("a comma-separated list or a JSON array")
        return value
    return text


def parse_settings(pairs: list[str] | None) -> dict[str, Any]:
    """``--set NAME=VALUE`` options, each name known and each value of its setting's type."""
    known: dict[str, Any] | None = None
    result: dict[str, Any] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CliError(f"--set expects NAME=VALUE, got {pair!r}")
        known = known if known is not None else known_settings()
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise CliError(f"--set {pair}: unknown setting {name!r}{hint}; the known settings are Scrapy's and "
                           "those of crawler/settings.py")
        result[name] = _typed(name, value, known[name])
    return result


def check_start_urls(text: str) -> list[str]:
    """The comma-separated start URLs, each with an http(s) scheme and a host."""
    urls = [u.strip() for u in text.split(",") if u.strip()]
    if not urls:
        raise CliError("--start-url expects a URL such as http://www.example.gov.cn/, got nothing")
    for url in urls:
        parts = urlsplit(url)
        try:
            host = parts.hostname
        except ValueError:
            host = None
        if parts.scheme not in ("http", "https") or not host:
            raise CliError(f"--start-url {url!r}: expected an http:// or https:// URL with a host, such as "
                           "http://www.example.gov.cn/")
    return urls


def check_portal_id(portal: str) -> None:
    from crawler.recurring.portals import ID_RULE, valid_portal_id

    if not valid_portal_id(portal):
        raise CliError(f"--portal {portal!r}: a portal id is {ID_RULE} (it prefixes every release_id)")


def out_dir_portal(out_dir: Path) -> str | None:
    """The portal an output directory already holds a crawl of (report.json, the state, the first row), or None."""
    report = out_dir / "report.json"
    if report.is_file():
        try:
            portal = json.loads(report.read_text("utf-8")).get("portal")
        except (ValueError, OSError):
            portal = None
        if portal:
            return str(portal)
    state = out_dir / "state.sqlite"
    if state.is_file():
        import sqlite3

        try:
            with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
                row = db.execute("SELECT portal FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
        except sqlite3.Error:
            row = None
        if row and row[0]:
            return str(row[0])
    releases = out_dir / "releases.jsonl"
    if releases.is_file():
        with releases.open("rb") as handle:
            first = handle.readline()
        try:
            portal = json.loads(first).get("portal") if first.strip() else None
        except (ValueError, AttributeError):
            portal = None
        if portal:
            return str(portal)
    return None


def check_out_dir(out_dir: Path, portal: str) -> None:
    """Refuse an output directory that holds another portal's crawl (its rows and state would mix)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise CliError(f"--out {out_dir}: expected a directory, found a file")
    held = out_dir_portal(out_dir) if out_dir.is_dir() else None
    if held is not None and held != portal:
        raise CliError(f"--out {out_dir}: it holds a crawl of portal {held!r}, not {portal!r}; give each portal "
                       "its own output directory")


def check_crawl_input(args: Any) -> None:
    """Every check of ``crawler crawl``'s arguments (see the module docstring); nothing is written."""
    if args.portal is None:
        if args.start_url is not None:
            raise CliError("--start-url needs --portal ID too (the id prefixes every release_id, e.g. "
                           "--portal example)")
        raise CliError("expected --portal ID (a registered portal, or a new id with --start-url URL)")
    check_portal_id(args.portal)
    if args.start_url is not None:
        check_start_urls(args.start_url)
    check_out_dir(Path(args.out), args.portal)


def check_warc_inputs(inputs: list[str], out: str) -> list[Path]:
    """The WARC files of ``inputs`` for ``replay`` and ``recrawl``: each input exists and starts as a WARC file (as
    ``crawler index`` checks them), and the directory of ``out`` can be written; CliError otherwise, before anything
    is read or written."""
    from archives.cdxj import ArchiveInputError, warc_files

    try:
        files = warc_files(inputs)
    except ArchiveInputError as exc:
        raise CliError(str(exc)) from exc
    check_writable_dir(Path(out).absolute().parent, "--out")
    return files
