"""The compact duplicate filter: same answers as Scrapy's RFPDupeFilter, bounded memory, JOBDIR resume."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import scrapy
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.request import RequestFingerprinter

from crawler.fetch.seen_filter import CompactDupeFilter, CompactSeenSet, fingerprint_key


def _request(i: int, method: str = "GET") -> scrapy.Request:
    return scrapy.Request(f"http://127.0.0.1:8000/art/2016/8/15/art_1229001_{2410000 + i}.html?b={i % 3}",
                          method=method, body=b"x=1" if method == "POST" else b"")


def test_answers_like_rfpdupefilter_across_merges() -> None:
    ours = CompactDupeFilter(fingerprinter=RequestFingerprinter())
    ours.seen.merge_at = 50  # many merges of the recent set into the sorted array
    scrapys = RFPDupeFilter(fingerprinter=RequestFingerprinter())
    order = [*range(400), *range(0, 400, 3), *range(380, 450), *range(200, 210)]
    for i in order:
        for method in ("GET", "POST"):
            assert ours.request_seen(_request(i, method)) == scrapys.request_seen(_request(i, method)), (i, method)
    assert len(ours.seen) == 2 * 450


def test_seen_set_membership_and_merge() -> None:
    seen = CompactSeenSet(merge_at=4)
    keys = [2**64 - 1, 0, 17, 5, 5, 2**63, 9, 1]
    for key in keys:
        seen.add(key)
    assert len(seen) == len(set(keys))
    assert all(key in seen for key in keys)
    assert not any(key in seen for key in (2, 2**64 - 2, 18))


def test_memory_per_request_is_a_few_bytes() -> None:
    fingerprinter = RequestFingerprinter()
    compact, plain = CompactDupeFilter(fingerprinter=fingerprinter), RFPDupeFilter(fingerprinter=fingerprinter)
    compact.seen.merge_at = 256  # most keys end up in the array, as in a long crawl
    sizes = []
    for dupefilter in (compact, plain):
        tracemalloc.start()
        for i in range(3000):
            dupefilter.request_seen(_request(i))
        gc.collect()  # requests in reference cycles, and the fingerprinter's weak cache entries with them
        sizes.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
    # both pay the same URL-parsing caches; Scrapy's set costs ~90 bytes a request, our array ~8
    assert (sizes[1] - sizes[0]) / 3000 > 50, sizes


def test_jobdir_resume_reads_and_writes_scrapys_format(tmp_path: Path) -> None:
    first = CompactDupeFilter(str(tmp_path), fingerprinter=RequestFingerprinter())
    for i in range(30):
        assert not first.request_seen(_request(i))
    first.close("finished")
    scrapys = RFPDupeFilter(str(tmp_path), fingerprinter=RequestFingerprinter())  # Scrapy reads our file
    assert scrapys.request_seen(_request(7)) and not scrapys.request_seen(_request(99))
    scrapys.close("finished")
    resumed = CompactDupeFilter(str(tmp_path), fingerprinter=RequestFingerprinter())
    assert resumed.request_seen(_request(29)) and resumed.request_seen(_request(99))
    assert not resumed.request_seen(_request(30))
    resumed.close("finished")
    fingerprint = RequestFingerprinter().fingerprint(_request(0))
    assert fingerprint_key(fingerprint) in resumed.seen
