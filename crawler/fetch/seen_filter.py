"""A duplicate-request filter that keeps 8 bytes per request seen instead of a set of 20-byte fingerprints.

Scrapy's ``RFPDupeFilter`` holds every fingerprint as a ``bytes`` object in a set: about 90 bytes per request,
5 MB for a 50,000-release portal and growing with it. ``CompactDupeFilter`` keeps the first 8 bytes of each
fingerprint (the fingerprinter stays ``REQUEST_FINGERPRINTER_CLASS``) as unsigned integers in a sorted
``array('Q')``, with the latest ones in a small set that is merged into the array when it reaches
``MERGE_AT`` entries. Two different requests are taken for one only if their SHA-1 fingerprints share the first
64 bits: for a million requests the chance that this happens at all is about 3 in 100 million.

With ``JOBDIR`` the full fingerprints are still appended to ``requests.seen`` in Scrapy's format, and read back
on resume, so a job directory works as with ``RFPDupeFilter``.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left
from typing import TYPE_CHECKING

from scrapy.dupefilters import RFPDupeFilter

if TYPE_CHECKING:
    from scrapy import Request

#: Recent keys kept in a set before they are merged into the sorted array (bounds the set's memory).
MERGE_AT = 4096


def fingerprint_key(fingerprint: bytes) -> int:
    """The 64-bit key kept for a fingerprint: its first 8 bytes, big-endian."""
    return int.from_bytes(fingerprint[:8], "big")


class CompactSeenSet:
    """A set of 64-bit integers: a sorted ``array('Q')`` plus a small set of recent additions."""

    def __init__(self, merge_at: int = MERGE_AT) -> None:
        self.merge_at = merge_at
        self._sorted = array("Q")
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def __contains__(self, key: int) -> bool:
        if key in self._recent:
            return True
        index = bisect_left(self._sorted, key)
        return index < len(self._sorted) and self._sorted[index] == key

    def add(self, key: int) -> None:
        """Add ``key`` (a no-op when it is present)."""
        if key in self:
            return
        self._recent.add(key)
        if len(self._recent) >= self.merge_at:
            self._merge()

    def _merge(self) -> None:
        # heapq.merge streams both sorted runs into the new array: no list of all keys is ever built
        self._sorted = array("Q", heapq.merge(self._sorted, sorted(self._recent)))
        self._recent.clear()


class CompactDupeFilter(RFPDupeFilter):
    """``RFPDupeFilter`` with 8 bytes of memory per request seen; see the module docstring."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.seen = CompactSeenSet()
        for fingerprint in self._fingerprints:  # read from JOBDIR/requests.seen on resume
            self.seen.add(fingerprint_key(fingerprint))
        self._fingerprints.clear()

    def request_seen(self, request: Request) -> bool:
        """True when a request with the same fingerprint key was seen; else remember it and return False."""
        fingerprint = self._fingerprint(request)
        key = fingerprint_key(fingerprint)
        if key in self.seen:
            return True
        self.seen.add(key)
        if self.file:
            self.file.write(len(fingerprint).to_bytes(2, "big") + fingerprint)
        return False
