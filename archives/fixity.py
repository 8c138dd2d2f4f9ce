"""SHA-256 fixity manifest (``sha256sum`` format) for closed archive files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MANIFEST_NAME = "manifest-sha256.txt"
_CHUNK = 1024 * 1024


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def append_fixity(directory: str | os.PathLike[str], path: str | os.PathLike[str]) -> str:
    """Append ``sha256  filename`` for *path* to the directory's manifest, fsync it, return the digest."""
    name = Path(path).name
    if "\n" in name or "\r" in name:
        raise ValueError(f"file name not allowed in a manifest: {name!r}")
    digest = sha256_file(path)
    manifest = Path(directory) / MANIFEST_NAME
    fd = os.open(manifest, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, f"{digest}  {name}\n".encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return digest


def read_manifest(directory: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Return ``(digest, filename)`` pairs of the manifest (empty when there is none)."""
    manifest = Path(directory) / MANIFEST_NAME
    if not manifest.exists():
        return []
    pairs = []
    for line in manifest.read_text(encoding="ascii").splitlines():
        digest, sep, name = line.partition("  ")
        pairs.append((digest, name) if sep else (line, ""))
    return pairs


def verify_fixity(directory: str | os.PathLike[str]) -> list[str]:
    """Check every manifest entry; return human-readable problems (empty list = all good).

    Also reports ``*.warc.gz`` files in the directory that the manifest does not list.
    """
    root = Path(directory)
    problems: list[str] = []
    listed: set[str] = set()
    for digest, name in read_manifest(root):
        if not name or len(digest) != 64:
            problems.append(f"malformed manifest line: {digest!r}")
            continue
        listed.add(name)
        target = root / name
        if not target.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(target) != digest:
            problems.append(f"{name}: sha256 mismatch")
    for path in sorted(root.glob("*.warc.gz")):
        if path.name not in listed:
            problems.append(f"{path.name}: not in {MANIFEST_NAME}")
    return problems
