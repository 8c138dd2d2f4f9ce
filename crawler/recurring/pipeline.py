"""Item pipeline of recurring crawls: decides whether a fetched release becomes a new JSONL row.

Runs after validation and before the JSONL export. A release the state does not know (or knew as removed)
passes. A known one is compared by content fingerprint (`crawler.recurring.fingerprint`): a different fingerprint from
the same extractor version is a changed release (event ``release_changed``, new row); a different extractor
version passes without an event; the same fingerprint is no new row (dropped quietly), with a
``hits_changed`` event when the printed hit count moved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from archives.pointer import WarcPointer
from crawler.items import exported_row
from crawler.recurring.config import require_enabled
from crawler.recurring.controller import active_recurring
from crawler.recurring.fingerprint import fingerprint, same_extractor

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class UnchangedRelease(DropItem):
    """The release is archived already with this content: no new row (logged at DEBUG); a documented skip."""

    #: What the accounting (crawler.report.ledger) counts this drop as.
    skip_reason = "unchanged"

    def __init__(self, release_id: str) -> None:
        super().__init__(f"unchanged release {release_id}", log_level="DEBUG")


class RecurringPipeline:
    """See the module docstring."""

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler  # None in the offline chain (replay, extract): every item passes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        require_enabled(crawler.settings)
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        ext = active_recurring(self.crawler) if self.crawler is not None else None
        if self.crawler is None or ext is None or ext.state is None:
            return item
        row = exported_row(item)
        rid, warc = row.get("release_id"), row.get("warc")
        if not rid or not isinstance(warc, dict):
            return item
        pointer = WarcPointer.from_row(warc)
        stats = self.crawler.stats
        ext.count_coverage(row)
        new_fp, new_hits = fingerprint(row), row.get("hits")
        info = ext.captures.get(pointer.record_id, {})
        known = ext.current.get(rid)
        state_row = None
        if known is None:
            state_row = ext.state.release(rid)
            if state_row is not None and not state_row["removed_at"]:
                known = (state_row["fingerprint"], state_row["hits"])
        ext.current[rid] = (new_fp, new_hits)
        if known is None:
            stats.inc_value("recurring/new")
            return item
        old_fp, old_hits = known
        if not same_extractor(old_fp, new_fp):
            stats.inc_value("recurring/reextracted")
            if info.get("revisit") and state_row is not None:  # the row must point at bytes, not at a revisit
                ItemAdapter(item)["warc"] = WarcPointer.from_state(state_row).row()
            return item
        if old_fp != new_fp:
            ext.queue_event("release_changed", rid, str(row.get("url")), {"fingerprint": old_fp},
                            {"fingerprint": new_fp}, pointer)
            stats.inc_value("recurring/changed")
            return item
        if new_hits != old_hits:
            ext.queue_event("hits_changed", rid, str(row.get("url")), {"hits": old_hits}, {"hits": new_hits},
                            pointer)
        else:
            stats.inc_value("recurring/unchanged")
        # A revisit (or a full record of the very payload the original holds) leaves the original in place.
        same_payload = state_row is not None and pointer.payload_digest == state_row["payload_digest"]
        ext.queue_recapture(rid, pointer, revisit=bool(info.get("revisit")) or same_payload)
        raise UnchangedRelease(rid)
