"""The project's own signals (like ``scrapy.signals``): sent by one room, handled by another.

attachment_skipped
    Sent by the spider (``spiders.attachments``) when a linked file is not archived; arguments ``url`` and
    ``fields`` (``name -> value`` of the skip record, ``skipped`` holds the reason code). The capture extension
    writes them as a WARC ``metadata`` record (``archives.skip_records``), so the spider itself writes nothing.
"""

attachment_skipped = object()
