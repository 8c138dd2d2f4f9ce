"""Archive formats, no Scrapy: WARC writing and reading, the WARC pointer, JSONL, fixity, indexes, packages.

The Scrapy glue (capture extension, JSONL export pipeline, replay download handler) is ``archives.components``.
"""

from archives.errors import ArchiveError
from archives.fixity import append_fixity, verify_fixity
from archives.http_record import HttpExchange
from archives.pointer import WarcPointer
from archives.warc_writer import RotatingWarcWriter, WarcWriteError

__all__ = [
    "ArchiveError",
    "HttpExchange",
    "RotatingWarcWriter",
    "WarcPointer",
    "WarcWriteError",
    "append_fixity",
    "verify_fixity",
]
