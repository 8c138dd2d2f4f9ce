"""The one WARC pointer type: where a record lives, and the shapes each consumer stores it in (no Scrapy).

A :class:`WarcPointer` is what the writer returns for every record it writes, what the readers return for the records
they find, and what the capture extension hands to the rest of the crawl in ``response.meta["warc"]``. Each output
keeps only part of it; the projections name those parts, so no consumer builds a pointer dict by hand:

=====================  ==========================================================  ===============================
projection             keys                                                        used by
=====================  ==========================================================  ===============================
``row()``              filename, offset, length, record_id, payload_digest          release rows, attachments,
                                                                                    ``export-state``'s original
``location()``         filename, offset, length, record_id                         failure rows, ``export-state``'s
                                                                                    latest capture
``event_row(date)``    ``row()`` + date                                            events
``refers_to()``        record_id, url, date, payload_digest                        the original a revisit refers to
``as_dict()``          every field                                                 the crawl state
=====================  ==========================================================  ===============================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

#: The keys of a release row's ``warc`` object (schema ``warc_pointer``), in order.
ROW_KEYS = ("filename", "offset", "length", "record_id", "payload_digest")


@dataclass(frozen=True, slots=True)
class WarcPointer:
    """Where a record lives: the final file name, the offset and length of its gzip member, and what it holds."""

    #: The record's WARC-Target-URI (None when built from a row, which keeps the URL beside the pointer).
    url: str | None
    filename: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None
    #: The record's WARC-Date (capture start), as written.
    date: str | None = None
    #: The revisit profile when the record is a revisit, else None (set by the capture extension).
    revisit: str | None = None

    def is_for(self, url: str) -> bool:
        """True when this is the pointer of a capture of *url* (redirects and retries copy request meta)."""
        return self.url == url

    def as_dict(self) -> dict[str, Any]:
        """Every field, as a plain dict."""
        return asdict(self)

    def row(self) -> dict[str, Any]:
        """The ``warc`` object of a JSONL row (releases, attachments)."""
        return {"filename": self.filename, "offset": self.offset, "length": self.length,
                "record_id": self.record_id, "payload_digest": self.payload_digest}

    def location(self) -> dict[str, Any]:
        """The record's place alone: the ``warc`` object of a failure row."""
        return {"filename": self.filename, "offset": self.offset, "length": self.length, "record_id": self.record_id}

    def event_row(self, date: str | None) -> dict[str, Any]:
        """The ``warc`` object of an event: the row's keys and the capture's WARC-Date."""
        return {**self.row(), "date": date}

    def refers_to(self) -> dict[str, Any]:
        """What a revisit of this record needs to know about it (``RotatingWarcWriter.write_revisit``)."""
        return {"record_id": self.record_id, "url": self.url, "date": self.date, "payload_digest": self.payload_digest}

    @classmethod
    def from_row(cls, warc: Mapping[str, Any], *, url: str | None = None, date: str | None = None) -> WarcPointer:
        """The pointer a row's ``warc`` object stands for."""
        return cls(url, warc["filename"], warc["offset"], warc["length"], warc["record_id"], warc.get("payload_digest"),
                   date)

    @classmethod
    def from_state(cls, row: Any, which: Literal["orig", "latest"] = "orig") -> WarcPointer:
        """The original (last full) or the latest capture of a crawl-state release row (an ``sqlite3.Row``)."""
        if which == "latest":
            return cls(None, row["latest_filename"], row["latest_offset"], row["latest_length"],
                       row["latest_record_id"], None)
        return cls(row["orig_uri"] or row["url"], row["orig_filename"], row["orig_offset"], row["orig_length"],
                   row["orig_record_id"], row["payload_digest"], row["orig_date"])
