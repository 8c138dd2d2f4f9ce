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
#: Marks a request for a release page (True); the accounting (``crawler.report``) follows each one to its outcome.
RELEASE = "release"
#: The URL of the page that led to a request (the list, column or home page that listed a release).
VIA = "via"
#: The column a listed release belongs to (the list's column).
COLUMN_ID = "column_id"
#: Set on the recurring re-requests of releases that vanished from their lists (the value says why).
RECURRING_CHECK = "recurring_check"


def is_release(meta: Mapping[str, Any]) -> bool:
    """True for a release request (``meta["release"]``) or a recurring re-request of a known release."""
    return bool(meta.get(RELEASE) or meta.get(RECURRING_CHECK))


def ledger_key(request: Any) -> str:
    """The URL a release request was first made for (before redirects): the key of its accounting."""
    redirects = request.meta.get("redirect_urls")
    return str(redirects[0]) if redirects else str(request.url)


def via_of(request: Any) -> str | None:
    """The page that led to *request*: ``meta["via"]``, else its Referer header."""
    via = request.meta.get(VIA)
    if via:
        return str(via)
    referer = request.headers.get(b"Referer") if getattr(request, "headers", None) is not None else None
    return referer.decode("latin-1") if referer else None


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
