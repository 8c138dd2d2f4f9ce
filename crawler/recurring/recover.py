"""``crawler recover DIR``: repair what a killed crawl left behind, touching nothing a live run holds.

The file work is `archives.recovery` (cut an ``.open`` WARC back to its last complete record, rename it, add its
fixity line; cut a partial last JSONL line). This module decides what may be touched:

- a ``NAME.warc.gz.open`` file is recovered only when no live process holds it: the WARC writer keeps an
  ``flock`` on the file it writes, which the kernel drops when the writer dies (``kill -9`` included); a file
  that is no longer held is never opened for writing again, since writers only create new names;
- a ``*.jsonl`` file is cut only when no live run holds a portal lock (``*.lock``) in its directory.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from archives.fixity import append_fixity
from archives.recovery import RecoveryError, cut_partial_jsonl_line, recover_warc
from archives.warc_writer import OPEN_SUFFIX
from crawler.recurring.locks import is_locked

logger = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    """What `recover_dir` did."""

    recovered: list[tuple[str, int, int]] = field(default_factory=list)  # (final name, kept bytes, cut bytes)
    skipped_live: list[str] = field(default_factory=list)
    removed_empty: list[str] = field(default_factory=list)
    jsonl_checked: list[str] = field(default_factory=list)
    jsonl_skipped_live: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fixity_added: list[str] = field(default_factory=list)


def _complete_manifest(directory: Path) -> list[str]:
    """Add the fixity line of closed WARCs the manifest lacks (a kill between the rename and the manifest)."""
    manifest = directory / "manifest-sha256.txt"
    text = manifest.read_text(encoding="utf-8", errors="replace") if manifest.exists() else ""
    listed = {line.split("  ", 1)[1] for line in text.splitlines() if "  " in line}
    added = []
    for path in sorted(directory.glob("*.warc.gz")):
        if path.name not in listed:
            append_fixity(directory, path)
            added.append(path.name)
    return added


def _finish_interrupted_rename(path: Path) -> bool:
    """A kill between the writer's link(NAME.open, NAME) and unlink(NAME.open): finish it (True if so).

    The writer fsyncs a file before renaming it, so NAME is complete; its fixity line may be missing.
    """
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    if not final.exists() or not os.path.samefile(path, final):
        return False
    manifest = path.parent / "manifest-sha256.txt"
    listed = manifest.exists() and f"  {final.name}\n" in manifest.read_text(encoding="utf-8", errors="replace")
    path.unlink()
    if not listed:
        append_fixity(path.parent, final)
    logger.warning("Finished the interrupted rename of %s", final.name)
    return True


def recover_dir(directory: str | os.PathLike[str], *, jsonl: bool = True) -> RecoveryReport:
    """Recover every abandoned ``.open`` WARC under *directory* (recursively) and cut partial JSONL lines."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory")
    report = RecoveryReport()
    for path in sorted(root.rglob("*.warc.gz" + OPEN_SUFFIX)):
        if not path.is_file():
            continue
        if is_locked(path):  # every writer holds LOCK_EX, so the probe of crawler.recurring.locks sees it
            report.skipped_live.append(str(path))
            continue
        final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
        if _finish_interrupted_rename(path):
            report.recovered.append((final.name, final.stat().st_size, 0))
            continue
        try:
            result = recover_warc(path)
        except RecoveryError as exc:
            report.errors.append(str(exc))
            logger.error("Could not recover %s: %s", path, exc)
            continue
        if result.removed or result.target is None:
            report.removed_empty.append(str(path))
            continue
        report.recovered.append((result.target.name, result.kept_bytes, result.cut_bytes))
        logger.warning("Recovered %s: kept %d bytes, cut %d", result.target.name, result.kept_bytes,
                       result.cut_bytes)
    for directory in sorted({p.parent for p in root.rglob("*.warc.gz")}):
        report.fixity_added += _complete_manifest(directory)
    if jsonl:
        for path in sorted(root.rglob("*.jsonl")):
            if any(is_locked(lock) for lock in path.parent.glob("*.lock")):
                report.jsonl_skipped_live.append(str(path))
                continue
            cut_partial_jsonl_line(path)
            report.jsonl_checked.append(str(path))
    return report
