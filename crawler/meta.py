"""Request meta keys that cross rooms, and how a consumer reads the capture pointer without importing ``archives``.

The capture extension (``archives.components.capture``) puts the ``WarcPointer`` of every response it archives into
``request.meta[WARC]`` (a response's ``meta`` is its request's); the replay download handler does the same for the
records it serves. Redirects and retries copy meta, so a pointer counts only for the URL it was written for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The WARC pointer of the response downloaded for this request (an ``archives.pointer.WarcPointer``).
WARC = "warc"
#: Set on a conditional re-request: the original capture this URL has in the archive (``WarcPointer.refers_to()``).
#: Only then may the capture extension write a revisit.
RECURRING_ORIGINAL = "recurring_original"
#: Marks an archive-only request (attachment or page requisite); the value says which kind.
ASSET = "asset"


def pointer_in(meta: Mapping[str, Any], url: str) -> Any:
    """The capture pointer in *meta* when it belongs to *url*, else None."""
    pointer = meta.get(WARC)
    return pointer if pointer is not None and getattr(pointer, "url", None) == url else None


def capture_pointer(response: Any) -> Any:
    """The capture pointer of *response* (None when it has none, or one for another URL, or no request)."""
    try:
        meta = response.meta
    except AttributeError:  # response not bound to a request
        return None
    return pointer_in(meta, response.url)
