"""FastWARC's reading (``archives.replay_scan``) against warcio's (``AttachmentIndex.build`` + ``iter_captures``),
the reference reader: what the replay and revisit tests compare."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from archives.attachment_index import AttachmentIndex
from archives.replay_scan import read_capture, scan
from archives.warc_reader import Capture, iter_captures


def everything(url: str) -> bool:
    """A ``want`` that takes every URL."""
    return True


def warcio_reading(paths: list[Path], want: Callable[[str], bool]) -> tuple[AttachmentIndex, list[Capture]]:
    """The attachment index and the wanted captures, read by warcio."""
    index = AttachmentIndex.build(paths, want=want)
    return index, list(iter_captures(paths, want=want, positions=index.positions))


def fast_reading(paths: list[Path], want: Callable[[str], bool], headers_later: Callable[[str], bool] | None = None
                 ) -> tuple[AttachmentIndex, list[Capture]]:
    """The attachment index and the wanted captures, scanned by FastWARC (the HTTP headers of the URLs
    ``headers_later`` accepts read only with the capture or at the index lookup)."""
    index, refs = scan(paths, want) if headers_later is None else scan(paths, want, headers_later=headers_later)
    if headers_later is not None:
        assert all(ref.status is None for ref in refs if headers_later(ref.url))
    return index, [read_capture(ref) for ref in refs]


def responses(index: AttachmentIndex) -> dict[str, tuple[Any, ...]]:
    """What the index keeps of each URL's first response."""
    return {url: (r.path, r.status, r.location, r.content_type, r.pointer) for url, r in index.responses.items()}




def assert_same_reading(paths: list[Path], want: Callable[[str], bool]) -> list[Capture]:
    """warcio's and FastWARC's readings of ``paths`` are equal, every attachment lookup too, whether the scan reads
    HTTP headers or leaves them all to be read later; return the captures."""
    reference, captures = warcio_reading(paths, want)
    for later in (None, everything):
        index, fast_captures = fast_reading(paths, want, later)
        assert fast_captures == captures
        for url in reference.responses.keys() | reference.skips.keys():  # sizes, redirects followed, skip records
            assert index.lookup(url) == reference.lookup(url), url
        assert responses(index) == responses(reference)
        assert index.skips == reference.skips
    return captures
