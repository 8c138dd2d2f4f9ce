"""Run pywb (``wb-manager``, ``wayback``) from its own virtualenv, as subprocesses.

pywb pins ``redis==2.10.6`` and brings ``brotlipy`` (which shadows the ``brotli`` module Scrapy needs), so it
never shares the crawler's virtualenv: ``make install`` builds ``.pywb-venv`` at the repository root, and this
module only calls its command-line tools. Set ``PYWB_VENV`` to use another one.

A collection root looks like pywb expects::

    ROOT/collections/COLL/archive/*.warc.gz
    ROOT/collections/COLL/indexes/index.cdxj

:func:`build_collection` makes it either with ``wb-manager add`` (pywb's own indexer, POST bodies appended) or
from a CDXJ index of ours (``crawler index``), and :class:`Wayback` serves a root on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from archives.errors import ArchiveError

REPO_ROOT = Path(__file__).resolve().parent.parent
PYWB_VENV_ENV = "PYWB_VENV"
DEFAULT_PYWB_VENV = REPO_ROOT / ".pywb-venv"
INDEX_NAME = "index.cdxj"


class PywbError(ArchiveError):
    """pywb is missing, or one of its commands failed."""


def pywb_venv() -> Path:
    """The pywb virtualenv: ``$PYWB_VENV`` or ``.pywb-venv`` at the repository root."""
    return Path(os.environ.get(PYWB_VENV_ENV) or DEFAULT_PYWB_VENV)


def pywb_tool(name: str) -> Path:
    """Path of a pywb console script (``wayback``, ``wb-manager``); PywbError telling how to build it if absent."""
    path = pywb_venv() / "bin" / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise PywbError(
            f"pywb tool {name!r} not found at {path}: run `make install` (it builds the separate pywb virtualenv "
            f".pywb-venv), or point {PYWB_VENV_ENV} at a virtualenv with pywb==2.10.0 installed"
        )
    return path


def _run(args: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        raise PywbError(f"{' '.join(args)} failed with status {proc.returncode}: {tail}")
    return proc


def build_collection(root: str | os.PathLike[str], coll: str, warcs: Iterable[str | os.PathLike[str]],
                     index: str | os.PathLike[str] | None = None) -> Path:
    """Create collection *coll* under *root* holding *warcs*; return the collection directory.

    Without *index*, ``wb-manager add`` copies the WARCs and indexes them with pywb's own indexer. With *index*
    (a sorted CDXJ such as ``crawler index`` writes, whose ``filename`` fields are the WARC base names), the
    WARCs are copied into ``archive/`` and that index is served as the collection's only index.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    warc_paths = [Path(w).resolve() for w in warcs]
    if not warc_paths:
        raise PywbError(f"no WARC files to add to collection {coll!r}")
    _run([str(pywb_tool("wb-manager")), "init", coll], cwd=root)
    coll_dir = root / "collections" / coll
    if index is None:
        _run([str(pywb_tool("wb-manager")), "add", coll, *map(str, warc_paths)], cwd=root)
    else:
        for path in warc_paths:
            shutil.copy2(path, coll_dir / "archive" / path.name)
        shutil.copyfile(index, coll_dir / "indexes" / INDEX_NAME)
    return coll_dir


_STRIP_FUZZY = """
import sys, yaml, pywb
from pywb.utils.loaders import load_yaml_config
rules = load_yaml_config(pywb.DEFAULT_RULES_FILE)
removed = sum(1 for rule in rules["rules"] if rule.pop("fuzzy_lookup", None) is not None)
with open(sys.argv[1], "w", encoding="utf-8") as out:
    yaml.safe_dump(rules, out, allow_unicode=True, sort_keys=False)
print(removed)
"""


def disable_fuzzy_matching(root: str | os.PathLike[str]) -> Path:
    """Make the wayback served from *root* answer only exact index matches; return the rules file written.

    pywb's default rules end with a catch-all ``fuzzy_lookup``: when a lookup finds nothing it retries with the
    query (and for POST, the appended body) cut off and answers **200 with another capture** of the same path.
    For a dataproxy POST whose body was never captured that is some other column's or page's list, with nothing
    in the response to tell it apart. This writes a copy of pywb's own ``rules.yaml`` without any
    ``fuzzy_lookup`` (rewrite rules unchanged) and points ``ROOT/config.yaml`` at it: uncaptured requests get 404.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rules = (root / "rules-exact-match.yaml").resolve()
    proc = _run([str(pywb_tool("python")), "-c", _STRIP_FUZZY, str(rules)], cwd=root)
    if int(proc.stdout.strip() or 0) < 1:
        raise PywbError("pywb's rules.yaml has no fuzzy_lookup rule to remove; check the pywb version")
    config = root / "config.yaml"
    config.write_text(f"# written by archives.pywb.disable_fuzzy_matching\nrules_file: {rules}\n", encoding="utf-8")
    return rules


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Wayback:
    """Context manager: ``wayback -b 127.0.0.1 -p PORT`` serving *root*, stopped (and waited for) on exit."""

    def __init__(self, root: str | os.PathLike[str], port: int | None = None, startup_timeout: float = 60.0,
                 threads: int = 4) -> None:
        self.root = Path(root)
        self.port = port or free_port()
        self.startup_timeout = startup_timeout
        self.threads = threads
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "wayback.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Wayback:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Start wayback and wait until it answers HTTP on its port (PywbError if it exits or times out)."""
        args = [str(pywb_tool("wayback")), "-b", "127.0.0.1", "-p", str(self.port), "-t", str(self.threads)]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(args, cwd=self.root, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PywbError(f"wayback exited with status {self.proc.returncode} before answering: "
                                f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/", timeout=2) as answer:
                    answer.read()
                return
            except urllib.error.HTTPError:
                return  # it answers HTTP, which is all readiness means
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise PywbError(f"wayback did not answer on {self.base_url} within {self.startup_timeout:.0f} s: "
                        f"{self.log_tail()}")

    def log_tail(self, size: int = 2000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Terminate wayback and wait for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
