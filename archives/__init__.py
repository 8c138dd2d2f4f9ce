"""Archive formats: WARC writing (rotation, `.open`, warcinfo), Scrapy capture extension, JSONL, fixity."""

from archives.fixity import append_fixity, verify_fixity
from archives.http_record import HttpExchange
from archives.warc_writer import ArchiveError, RotatingWarcWriter, WarcPointer, WarcWriteError

__all__ = [
    "ArchiveError",
    "HttpExchange",
    "RotatingWarcWriter",
    "WarcPointer",
    "WarcWriteError",
    "append_fixity",
    "verify_fixity",
]
