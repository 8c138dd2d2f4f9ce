"""The project's own signals (like ``scrapy.signals``): sent by one room, handled by another.

attachment_skipped
    Sent by the spider (``spiders.attachments``) when a linked file is not archived; arguments ``url`` and
    ``fields`` (``name -> value`` of the skip record, ``skipped`` holds the reason code). The capture extension
    writes them as a WARC ``metadata`` record (``archives.skip_records``), so the spider itself writes nothing.

release_skipped
    Sent when a release request (``meta["release"]``) is deliberately not fetched or not made a row: robots.txt,
    off-site, a limit, or on recurring runs not re-requested (old, archived before an interruption), answered 304,
    unchanged, removed. Arguments ``request`` and ``reason`` (a machine-readable word). The accounting of
    ``crawler.report`` counts it as a documented skip.

failure_recorded
    Sent by the failure log (``crawler.fetch.failure_log``) after it recorded a failure row; arguments
    ``request``, ``reason`` and ``row`` (the row as written).

rows_written
    Sent by the JSONL export once release rows are appended and fsynced; argument ``urls`` (the rows' ``url``).

release_gone
    Sent by the request path when a release URL answers with the CMS's not-found page (a soft 404) or redirects to
    the home page or a column; arguments ``request``, ``response``, ``reason``, ``detail``. A handler that records
    it as a removal of a known release (recurring runs) returns True; otherwise it becomes a failure row.
"""

attachment_skipped = object()
release_skipped = object()
failure_recorded = object()
rows_written = object()
release_gone = object()
