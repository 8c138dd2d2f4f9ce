"""A cheap over-approximation of a page's requisite links, read off the text without building a tree.

Most release pages of a portal load only the stylesheets, scripts and images its other pages loaded already, and a
crawl requests each requisite once: for them, parsing the whole page (``spiders.requisites``, lexbor) finds nothing
to request. `requisite_candidates` reads the links a page *could* load from the text alone, by the rules of the
HTML tokenizer (WHATWG HTML, 13.2.5, from the tag name to the end of the tag), so a finder can skip the parse when
every candidate is known already.

The candidates are a superset of what an HTML5 parser loads, never a subset: every ``<link``, ``<script``, ``<img``
and ``<image`` (the tree builder renames it ``img``) in the text is read, those inside comments, scripts,
``<template>`` and foreign content included; a start tag of these names always appears so in the text, and its
attributes are read as the tokenizer reads them (quoted and unquoted values, ``/`` and missing spaces between
attributes, the first of repeated names). Where the text is not read the same way by this scan and the parser, the
scan gives up (None) and the page is parsed: a ``<base>`` tag (it changes what links resolve against); in a ``rel``,
``href`` or ``src`` value a NUL, a carriage return, a numeric character reference or a legacy one the tokenizer
would replace (``&name;`` is replaced, ``&x`` that names nothing is kept, as the tokenizer does); more than
`MAX_TAGS` tags (those pages are parsed by lxml, whose rules differ).
"""

from __future__ import annotations

import re
from html.entities import html5

#: Pages with more ``<`` than this are not scanned (the same bound as ``spiders.requisites.LEXBOR_MAX_TAGS``).
MAX_TAGS = 10_000

# Tag names end at whitespace, "/" or ">" (13.2.5.8) and fold ASCII upper case only. This takes every name of three
# to six ASCII letters that could be one of ours (a first letter search is cheap); the names are checked after.
_TAG_RX = re.compile(r"<([lLsSiIbB][a-zA-Z]{2,5})(?=[\t\n\f\r />])")
# One step of the tokenizer's attribute states (13.2.5.32-39): skip whitespace and a "/" not closing the tag
# (the self-closing start tag state reconsumes anything but ">" as before-attribute-name), then either the tag's
# end or one attribute: a name (its first character may be "="), and after optional whitespace an "=" and a
# double-quoted, single-quoted or unquoted value. A carriage return is whitespace here (the input stream turns it
# into a line feed). A quote left open runs to the end of the text: the tokenizer then drops the tag (an extra).
_ATTRIBUTE_RX = re.compile(
    r"(?:[\t\n\f\r ]|/(?!>))*"
    r"(?:(/?>|\Z)|([^\t\n\f\r />][^\t\n\f\r />=]*)"
    r"(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:\"([^\"]*)\"?|'([^']*)'?|([^\t\n\f\r >]*)))?)"
)
# The common tag: only name="value" (or name='value') pairs after whitespace, then ">" or "/>". Read whole, a tag
# like this holds exactly the attributes `_PAIR_RX` finds in it.
_SIMPLE_TAG_RX = re.compile(
    r"((?:[\t\n\f\r ]+[a-zA-Z][a-zA-Z0-9_:-]*[\t\n\f\r ]*=[\t\n\f\r ]*(?:\"[^\"]*\"|'[^']*'))*)[\t\n\f\r ]*/?>"
)
_PAIR_RX = re.compile(r"([a-zA-Z][a-zA-Z0-9_:-]*)[\t\n\f\r ]*=[\t\n\f\r ]*(?:\"([^\"]*)\"|'([^']*)')")
#: The attribute each tag loads from (a ``<link>`` only with ``rel`` naming ``stylesheet``).
_LOADS = {"link": "href", "script": "src", "img": "src", "image": "src"}
#: The attributes whose values the scan uses.
_USED = frozenset(("rel", "href", "src"))
#: The longest name in the named character reference table (``&CounterClockwiseContourIntegral;``).
_LONGEST_REFERENCE = max(map(len, html5))


class _GiveUp(Exception):
    """The text holds what the scan does not read as the parser does."""


def requisite_candidates(html: str) -> list[str] | None:
    """Every value a ``<link rel=stylesheet href>``, ``<script src>`` or ``<img src>`` in *html* may load, as the
    parser reads it (not resolved), in text order; None when the page must be parsed instead (module docstring)."""
    if html.count("<") > MAX_TAGS:
        return None
    found: list[str] = []
    try:
        for tag in _TAG_RX.finditer(html):
            name = tag.group(1).lower()
            if name not in _LOADS:
                if name == "base":
                    return None
                continue
            attributes = _attributes(html, tag.end())
            if name == "link" and "stylesheet" not in (attributes.get("rel") or "").lower().split():
                continue
            value = attributes.get(_LOADS[name])
            if value:
                found.append(value)
    except _GiveUp:
        return None
    return found


def _attributes(html: str, pos: int) -> dict[str, str]:
    """The ``rel``, ``href`` and ``src`` of the start tag whose name ends at *pos* (the first of each name), their
    values as the tokenizer reads them (`_value`)."""
    attributes: dict[str, str] = {}
    simple = _SIMPLE_TAG_RX.match(html, pos)
    if simple is not None:  # only name="value" pairs: each pair is one attribute, read in one call
        pairs = [(name, dq or sq) for name, dq, sq in _PAIR_RX.findall(simple.group(1))]
    else:
        pairs = []
        match = _ATTRIBUTE_RX.match
        while True:
            step = match(html, pos)
            if step is None:  # never: the pattern matches the end of a tag, an attribute or the end of the text
                break
            end, name, dq, sq, uq = step.groups()
            if end is not None:
                break
            pos = step.end()
            pairs.append((name, dq if dq is not None else sq if sq is not None else uq or ""))
    for name, value in pairs:
        # only ASCII letters fold in the tokenizer; no other letter lower-cases to one of rel, href and src
        name = name.lower()
        if name in _USED and name not in attributes:  # a repeated attribute is dropped by the tokenizer
            attributes[name] = _value(value)
    return attributes


def _value(raw: str) -> str:
    """An attribute value as the tokenizer reads it (13.2.5.72-73: character references in an attribute).

    An ``&`` not followed by a reference name stays as written, as does a reference without ``;`` followed by
    ``=`` or a letter or digit; ``&name;`` is replaced. `_GiveUp` on what is rarer and subtler: a numeric reference,
    a reference without ``;`` that would be replaced, a NUL or a carriage return (the parser rewrites both).
    """
    if "\x00" in raw or "\r" in raw:
        raise _GiveUp
    if "&" not in raw:
        return raw
    parts: list[str] = []
    start = 0
    at = raw.find("&")
    while at >= 0:
        after = at + 1
        if raw.startswith("#", after):
            raise _GiveUp
        name = _reference_at(raw, after)
        if name is None:
            at = raw.find("&", after)
            continue
        end = after + len(name)
        if not name.endswith(";"):
            following = raw[end : end + 1]
            if following == "=" or (following.isascii() and following.isalnum()):
                at = raw.find("&", after)  # kept as written, for historical reasons
                continue
            raise _GiveUp
        parts.append(raw[start:at])
        parts.append(html5[name])
        start = end
        at = raw.find("&", end)
    parts.append(raw[start:])
    return "".join(parts)


def _reference_at(text: str, pos: int) -> str | None:
    """The longest name of the named character reference table that *text* holds at *pos*, if any."""
    for length in range(min(_LONGEST_REFERENCE, len(text) - pos), 1, -1):
        name = text[pos : pos + length]
        if name in html5:
            return name
    return None
