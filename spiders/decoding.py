"""Bytes -> text for release pages, with the charset decision recorded.

Order: BOM, HTTP ``Content-Type`` charset, ``<meta>`` charset (w3lib scans the first 4096 bytes; a late
``<meta>`` up to 16 kB in is used as the default), then UTF-8. gb2312/gbk map to gb18030 (w3lib).

Lie check: when the chosen decoding yields U+FFFD replacement characters above
``REPLACEMENT_RATIO_LIMIT`` (or the chosen codec is outside ``ALLOWED_CHARSETS``), the page is decoded again
with the meta charset, gb18030, utf-8 and, only if none of them is clean, charset-normalizer's guess; the
candidate with the fewest U+FFFD wins (ties keep the earlier candidate, and the declared decoding is only
replaced by one with fewer than half its U+FFFD).

``used`` is always one of ``ALLOWED_CHARSETS``. Labels ``ascii``/``us-ascii``/``latin-1``/``iso-8859-1``
resolve to windows-1252, as WHATWG and w3lib do; a windows-1252 page whose non-ASCII bytes are valid UTF-8 is
reported (and decoded) as utf-8.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass

from w3lib.encoding import html_to_unicode, http_content_type_encoding, read_bom, resolve_encoding, to_unicode

#: The codec names ``DecodedPage.used`` may take (the schema's ``charset.used`` enum reuses this list).
ALLOWED_CHARSETS: tuple[str, ...] = ("utf-8", "gb18030", "big5", "windows-1252", "utf-16-le", "utf-16-be")

#: Python codec name -> reported name.
_REPORTED: dict[str, str] = {
    "utf-8": "utf-8",
    "gb18030": "gb18030",
    "big5": "big5",
    "big5hkscs": "big5",
    "cp950": "big5",
    "cp1252": "windows-1252",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
}
#: Reported name -> codec used to decode.
_CODEC: dict[str, str] = {
    "utf-8": "utf-8",
    "gb18030": "gb18030",
    "big5": "big5hkscs",
    "windows-1252": "cp1252",
    "utf-16-le": "utf-16-le",
    "utf-16-be": "utf-16-be",
}

#: Above this share of U+FFFD in the decoded text (and at least ``_MIN_REPLACEMENTS`` of them) the
#: declared charset is suspected of lying.
REPLACEMENT_RATIO_LIMIT = 0.0005
_MIN_REPLACEMENTS = 3
_META_SCAN_BYTES = 16384

_HEADER_LABEL_RE = re.compile(r"""charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_META_LABEL_RE = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DecodedPage:
    """A decoded page: the text and the charset decision (declared labels lower-cased, as found)."""

    text: str
    header_charset: str | None
    meta_charset: str | None
    used: str
    conflict: bool = False  #: True when the lie check replaced the declared/default decoding


def _header_label(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_LABEL_RE.search(content_type)
    return m.group(1).lower() if m else None


def _meta_label(body: bytes) -> str | None:
    m = _META_LABEL_RE.search(body[:_META_SCAN_BYTES])
    return m.group(1).decode("ascii", "replace").lower() if m else None


def _reported(label_or_codec: str | None) -> str | None:
    """Map a label or codec name to an ``ALLOWED_CHARSETS`` name, or None."""
    if not label_or_codec:
        return None
    resolved = resolve_encoding(label_or_codec)
    if resolved is None:
        return None
    return _REPORTED.get(codecs.lookup(resolved).name)


def _decode(body: bytes, name: str) -> str:
    return to_unicode(body, _CODEC[name])


def _detect(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body[:65536]).best()
    return _reported(best.encoding) if best is not None else None


def _suspicious(text: str) -> bool:
    bad = text.count("\ufffd")
    return bad >= _MIN_REPLACEMENTS and bad / max(len(text), 1) > REPLACEMENT_RATIO_LIMIT


def _header_decoding(body: bytes, content_type: str | None,
                     decoded: Callable[[], tuple[str, str]] | None) -> tuple[str, str] | None:
    """``html_to_unicode(content_type, body)`` taken from a decoding already made (Scrapy's ``response.encoding``
    and ``response.text``, which the release checks read before the spider), or None when it cannot be.

    It can when the header names a charset and the body has no byte-order mark: ``html_to_unicode`` then decodes the
    body with the header's charset whatever the default, and Scrapy decodes it with ``html_to_unicode("charset=" +
    response.encoding, body)``, the same call when ``response.encoding`` is that charset's name and naming it again
    resolves to itself. UTF-16/32 (named without byte order) are left to ``html_to_unicode``. Issue 15: the second
    decoding of every release page was about 0.8% of the crawl's CPU.
    """
    if decoded is None or read_bom(body)[0] is not None:
        return None
    charset = http_content_type_encoding(content_type) if content_type else None
    if charset is None or charset.startswith(("utf-16", "utf-32")) or resolve_encoding(charset) != charset:
        return None
    encoding, text = decoded()
    return (charset, text) if encoding == charset else None


def decode_html(body: bytes, content_type: str | None,
                decoded: Callable[[], tuple[str, str]] | None = None) -> DecodedPage:
    """Decode an HTML body; see the module docstring for the order and the lie check.

    *decoded* gives ``(encoding, text)`` of a decoding of *body* made by Scrapy (`_header_decoding` uses it only when
    it is exactly the one made here).
    """
    header = _header_label(content_type)
    meta = _meta_label(body)
    meta_name = _reported(meta)
    codec, text = (_header_decoding(body, content_type, decoded)
                   or html_to_unicode(content_type, body, default_encoding=_CODEC[meta_name or "utf-8"]))
    used = _REPORTED.get(codecs.lookup(codec).name)
    if used == "utf-8" and text.startswith("\ufeff"):
        text = text[1:]

    if used is not None and not _suspicious(text):
        if used == "windows-1252" and not body.isascii():
            try:
                return DecodedPage(body.decode("utf-8"), header, meta, "utf-8", conflict=True)
            except UnicodeDecodeError:
                pass
        return DecodedPage(text, header, meta, used)

    best_name, best_text = used, text
    best_bad = text.count("\ufffd") if used is not None else len(body) + 1
    limit = best_bad / 2 if used is not None else best_bad
    candidates = [n for n in (meta_name, "gb18030", "utf-8") if n and n != used]
    for name in dict.fromkeys(candidates):
        cand = _decode(body, name)
        bad = cand.count("\ufffd")
        if bad < limit and bad < best_bad:
            best_name, best_text, best_bad, limit = name, cand, bad, bad
    if best_bad > 0:  # only pay for detection when no simple candidate decodes cleanly
        detected = _detect(body)
        if detected is not None and detected != used and detected not in candidates:
            cand = _decode(body, detected)
            bad = cand.count("\ufffd")
            if bad < limit and bad < best_bad:
                best_name, best_text = detected, cand
    if best_name is None:  # undecodable label outside the allowed set and nothing better: utf-8
        best_name, best_text = "utf-8", _decode(body, "utf-8")
    return DecodedPage(best_text, header, meta, best_name, conflict=best_name != used)
