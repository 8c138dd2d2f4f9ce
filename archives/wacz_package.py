"""Package a crawl as WACZ with the ``wacz`` tool, with ``pages/pages.jsonl`` built from our own release rows.

``wacz create --detect-pages`` keeps only pages that were some other request's Referer, and ``--text`` assumes
UTF-8 (our GBK pages fail), so the page list is ours: one page per row of ``releases.jsonl`` with its ``url``,
``title``, ``text`` (the cleaned ``body_text``) and ``ts``. wacz matches a passed page to a record by
``timestamp/url`` where the timestamp is the record's ``WARC-Date`` to the second, and it drops a page that
matches nothing (it only prints "Invalid passed page"). So ``ts`` is read from the response record the row's
``warc`` pointer names, never from ``fetched_at``, and after packaging the page count inside the WACZ is compared
with the number of rows: a difference is an error, not a warning. ``wacz validate`` is run on the result.

``wacz`` runs as a child process of this interpreter (``python -m wacz``), so its prints and warnings stay out
of ours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archives.cdxj import ArchiveInputError, warc_files
from archives.errors import ArchiveError
from archives.verify import crawl_paths, read_record_at
from archives.warc_writer import OPEN_SUFFIX

PAGES_PATH = "pages/pages.jsonl"


class WaczError(ArchiveError):
    """Packaging or validation failed; the message says why."""


@dataclass
class WaczResult:
    """What :func:`package_crawl` made."""

    path: Path
    pages: int
    warc_files: list[str]
    size: int


def _run_wacz(args: list[str], timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wacz", *args], capture_output=True, text=True, timeout=timeout)


def build_pages(jsonl: Path, warc_dir: Path, title: str | None = None) -> list[dict[str, Any]]:
    """The ``pages.jsonl`` lines (header first) for the rows of *jsonl*; ArchiveInputError on a bad row.

    Each page's ``ts`` is the ``WARC-Date`` of the response record at the row's pointer, which must hold the
    row's URL (otherwise wacz would silently drop the page, or attach it to the wrong capture).
    """
    header: dict[str, Any] = {"format": "json-pages-1.0", "id": "pages", "title": title or "Releases"}
    pages: list[dict[str, Any]] = [header]
    seen: set[tuple[str, str]] = set()
    with jsonl.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{jsonl} line {number}"
            try:
                row = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ArchiveInputError(f"{where}: not a UTF-8 JSON line ({exc})") from exc
            pointer, url = row.get("warc"), row.get("url")
            if not isinstance(pointer, dict) or not isinstance(url, str):
                raise ArchiveInputError(f"{where}: the row has no url or no warc pointer")
            try:
                info, _ = read_record_at(warc_dir / str(pointer["filename"]), int(pointer["offset"]),
                                         int(pointer["length"]))
            except (KeyError, TypeError, ValueError, OSError) as exc:
                raise ArchiveInputError(f"{where}: its warc pointer does not resolve ({exc}); "
                                        "run `crawler verify` on the crawl") from exc
            if info.rec_type != "response" or info.target_uri != url or not info.warc_date:
                raise ArchiveInputError(f"{where}: its warc pointer holds a {info.rec_type} record for "
                                        f"{info.target_uri}, not the response for {url}")
            key = (info.warc_date[:19], url)  # wacz keys pages by timestamp to the second + url
            if key in seen:
                continue
            seen.add(key)
            page: dict[str, Any] = {"url": url, "ts": info.warc_date, "title": row.get("title") or url}
            if row.get("release_id"):
                page["id"] = row["release_id"]
            if row.get("body_text"):
                page["text"] = row["body_text"]
            pages.append(page)
    return pages


def count_pages(wacz_path: Path) -> int:
    """Number of page lines (header excluded) in the package's ``pages/pages.jsonl`` (0 when it has none)."""
    with zipfile.ZipFile(wacz_path) as archive:
        if PAGES_PATH not in archive.namelist():
            return 0
        lines = archive.read(PAGES_PATH).decode("utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and "format" not in json.loads(line))


def validate_wacz(path: str | os.PathLike[str]) -> str:
    """Run ``wacz validate``; return its output, or raise WaczError with it."""
    proc = _run_wacz(["validate", "-f", str(path)])
    output = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or "Validation succeeded" not in proc.stdout:
        raise WaczError(f"wacz validate failed on {path} (status {proc.returncode}): {output[-2000:]}")
    return output


def package_crawl(directory: str | os.PathLike[str], output: str | os.PathLike[str],
                  title: str | None = None) -> WaczResult:
    """Package the crawl in *directory* (``warc/*.warc.gz`` + ``releases.jsonl``) as the WACZ file *output*."""
    root, warc_dir, jsonl = crawl_paths(directory)
    leftovers = sorted(p.name for p in warc_dir.glob(f"*{OPEN_SUFFIX}"))
    if leftovers:
        raise ArchiveInputError(f"{warc_dir}: unfinished WARC file(s) {', '.join(leftovers)}; the crawl did not "
                                "close them (run `crawler verify`)")
    warcs = sorted(warc_dir.glob("*.warc.gz"))
    if not warcs:
        raise ArchiveInputError(f"{warc_dir}: no .warc.gz file to package")
    warc_files(warcs)  # each one must start like a WARC
    if not jsonl.is_file():
        raise ArchiveInputError(f"{root}: no releases.jsonl to build the page list from")
    out = Path(output)
    if out.is_dir():
        raise ArchiveInputError(f"{out}: output is a directory, expected a .wacz file path")
    out.parent.mkdir(parents=True, exist_ok=True)
    pages = build_pages(jsonl, warc_dir, title=title or f"Releases archived in {root.name}")
    expected = len(pages) - 1
    with tempfile.TemporaryDirectory(prefix="wacz-", dir=out.parent) as tmp:
        pages_file = Path(tmp) / "pages.jsonl"
        with pages_file.open("w", encoding="utf-8") as handle:
            for page in pages:
                handle.write(json.dumps(page, ensure_ascii=False) + "\n")
        tmp_out = Path(tmp) / out.name
        args = ["create", "-o", str(tmp_out), "-p", str(pages_file), *map(str, warcs)]
        proc = _run_wacz(args)
        output_text = (proc.stdout + proc.stderr).strip()
        if proc.returncode != 0 or not tmp_out.is_file():
            raise WaczError(f"wacz create failed (status {proc.returncode}): {output_text[-2000:]}")
        dropped = [line for line in proc.stdout.splitlines() if line.startswith("Invalid passed page")]
        packaged = count_pages(tmp_out)
        if dropped or packaged != expected:
            raise WaczError(f"wacz kept {packaged} of {expected} pages; it matched no record for "
                            f"{len(dropped)} of them, first: {dropped[:1]}")
        validate_wacz(tmp_out)
        os.replace(tmp_out, out)
    return WaczResult(out, packaged, [p.name for p in warcs], out.stat().st_size)
