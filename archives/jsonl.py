"""The strict JSON Lines writer (no Scrapy): the release rows, the failure rows and the events all go through it.

Line policy (RELIABILITY 2.8): one JSON object per ``\\n``-terminated line, UTF-8 without BOM,
``ensure_ascii=False``; U+2028, U+2029 and U+0085 are escaped so ``str.splitlines()`` sees exactly the ``\\n``
lines; lone surrogates become U+FFFD; NUL characters are stripped; NaN and infinities become ``null`` (and
``allow_nan=False`` guards the rest). Each sanitisation is counted.

The pipeline that writes a release row only once its WARC records are durable is
``archives.components.jsonl_export``.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from archives.errors import ArchiveError

logger = logging.getLogger(__name__)

_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\u0085": "\\u0085"}
_LINE_BREAKS_RX = re.compile("[\u2028\u2029\u0085]")
_SURROGATE_RX = re.compile("[\ud800-\udfff]")


class JsonlWriteError(ArchiveError, OSError):
    """Appending to the JSONL file failed; the file was cut back to its last complete line."""


def sanitize(value: Any, counts: Counter[str] | None = None) -> Any:
    """Return *value* with lone surrogates -> U+FFFD, NULs stripped and non-finite floats -> None."""
    counts = counts if counts is not None else Counter()
    if isinstance(value, str):
        if "\x00" in value:
            counts["nul_stripped"] += 1
            value = value.replace("\x00", "")
        if _SURROGATE_RX.search(value):
            counts["surrogate_replaced"] += 1
            value = _SURROGATE_RX.sub("\ufffd", value)
        return value
    if isinstance(value, float) and not math.isfinite(value):
        counts["nonfinite_nulled"] += 1
        return None
    if isinstance(value, dict):
        return {sanitize(str(k), counts): sanitize(v, counts) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [sanitize(v, counts) for v in value]
    return value


def _without_surrogate_check(value: Any, counts: Counter[str]) -> Any:
    """`sanitize` minus the lone-surrogate pass (the costly part: a regex over every string)."""
    if isinstance(value, str):
        if "\x00" in value:
            counts["nul_stripped"] += 1
            value = value.replace("\x00", "")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        counts["nonfinite_nulled"] += 1
        return None
    if isinstance(value, dict):
        return {_without_surrogate_check(str(k), counts): _without_surrogate_check(v, counts)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_surrogate_check(v, counts) for v in value]
    return value


def _line(clean: Any) -> bytes:
    text = json.dumps(clean, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # JSON escapes every other control character; these three are line breaks for str.splitlines().
    if "\u2028" in text or "\u2029" in text or "\u0085" in text:
        text = _LINE_BREAKS_RX.sub(lambda m: _LINE_BREAKS[m.group(0)], text)
    return (text + "\n").encode("utf-8", "strict")


def encode_line(obj: Any, counts: Counter[str] | None = None) -> bytes:
    """Serialize one object as one strict-UTF-8 JSON line ending in ``\\n``.

    Lone surrogates are rare, and JSON (``ensure_ascii=False``) leaves them as they are, so the strict UTF-8
    encoding refuses a line that holds one: the line is made without looking for them first, and made again with
    the full `sanitize` when the encoding refuses it. Either way the bytes and the counts are `sanitize`'s.
    """
    found: Counter[str] = Counter()
    try:
        data = _line(_without_surrogate_check(obj, found))
    except UnicodeEncodeError:
        return _line(sanitize(obj, counts))
    if counts is not None:
        counts.update(found)
    return data


class JsonlWriter:
    """Append JSON lines in batches: one ``write`` loop and one ``fsync`` per batch."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.counts: Counter[str] = Counter()
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = self._recover()

    def _recover(self) -> int:
        """Cut a partial last line (left by a crash or a full disk) back to the last ``\\n``."""
        assert self._fd is not None
        size = os.fstat(self._fd).st_size
        end = size
        while end > 0:
            start = max(0, end - 65536)
            chunk = os.pread(self._fd, end - start, start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                end = start + cut + 1
                break
            end = start
        if end != size:
            logger.warning("JSONL %s ended with a partial line: cut %d bytes", self.path, size - end)
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
        return end

    @property
    def size(self) -> int:
        """The file's size in bytes: where the next line starts."""
        return self._size

    def write_rows(self, rows: Iterable[Any]) -> int:
        """Encode, append and fsync *rows*; return how many were written."""
        if self._fd is None:
            raise ValueError(f"JSONL writer for {self.path} is closed")
        return self.write_lines([encode_line(row, self.counts) for row in rows])

    def write_lines(self, lines: list[bytes]) -> int:
        """Append and fsync lines already made by :func:`encode_line`; return how many were written."""
        if self._fd is None:
            raise ValueError(f"JSONL writer for {self.path} is closed")
        if not lines:
            return 0
        data = memoryview(b"".join(lines))
        start = self._size
        try:
            while data:
                data = data[os.write(self._fd, data) :]
            os.fsync(self._fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            code = errno.errorcode.get(exc.errno or 0, str(exc.errno))  # ENOSPC: what the verdict and logs name
            message = f"JSONL write failed on {self.path}: {code} ({exc.strerror})"
            raise JsonlWriteError(exc.errno, message) from exc
        self._size = start + sum(len(line) for line in lines)
        return len(lines)

    def close(self) -> None:
        """fsync and close the file."""
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
                self._fd = None
