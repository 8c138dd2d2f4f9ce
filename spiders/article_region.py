"""The article region of a release page: the part of the page source that holds every field, found by the markers.

Most of a Hanweb release page is site furniture: the top bar, the navigation and its link farms before the
article, the footer link farms after it. ``spiders.release_page`` reads the fields from the body container (the
parent of the first content marker), from a linear rendering of the page outside it (labels, dates, counts),
from the head (metas, ``<title>``) and from the links (attachments). When the furniture holds nothing any of
those rules could take, parsing and walking only the head and the top-level element of ``<body>`` that holds the
first content marker gives the same record for a fraction of the work.

`article_region` returns that smaller document, or None (the whole page is parsed) when:

- the page has no content marker in its ``<body>``, or the tags before the marker do not say which top-level
  element holds it;
- the text outside the region (tags, scripts, styles and comments removed, entities decoded: a superset of what
  the linear rendering shows) holds a metadata label, a ``次浏览`` count, a date before the region, or the words a
  date line ends with (作者, 点击) after it;
- the source outside the region holds a ``<meta>``, ``<base>`` or ``<title>`` tag, a content marker's words, an
  attachment-like link (a file extension of ``ATTACHMENT_EXT_RE`` or ``downfile.jsp``), or (``title_safe``
  false) an element that could be a title candidate.

Title candidates outside the region only matter when neither the ArticleTitle meta nor the title marker gives a
title: ``spiders.release_page`` then parses the whole page (`Region.title_safe`).

The checks read the page source, not a tree, and err on the side of the whole page: tags may stand between a
label's characters, any tag after a label may be a line break, scripts count as text. A portal's pages share their
navigation and footer byte for byte, so the verdicts are cached per piece of source (cut before each ``<div``) and
the region of the next page is looked for right after the navigation of the last ones, and the sources found clean
on the latest pages are remembered whole. Used by the live crawl, replay and ``crawler extract``
(``spiders.release_page.parse_release_document``); the crawl parses the whole page on its own for its
page-requisites finder. ``tests/test_article_region.py`` holds the region reading equal to the whole-page reading
over every fixture page and the variation seeds.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from functools import lru_cache

from spiders.vocabulary import BEGIN_MARKER_RE, LABELS, TITLE_KEYS, TITLE_TOKEN_RE

_BODY_OPEN_RE = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
#: containers whose end tag is never implied: the tags that say which top-level element holds the marker
_CONTAINERS = ("div", "table", "section", "article", "main", "center", "form", "header", "footer", "nav", "aside")
_START_TAG_RE = re.compile(r"<(" + "|".join(_CONTAINERS) + r")\b", re.IGNORECASE)
_CONTAINER_TAG_RE = re.compile(
    r"<!--.*?-->|<(script|style|textarea)\b.*?</\1\s*>|<(/?)(" + "|".join(_CONTAINERS) + r")\b[^>]*>",
    re.IGNORECASE | re.DOTALL | re.ASCII,
)
#: what never shows in the linear rendering (comments, scripts, styles) and the tags, which become `_TAG`
_HIDDEN_RE = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
#: the tags `spiders.release_page._walk` renders as a line or cell break, a script mark or a skipped element; the
#: other tags render as nothing (tests/test_article_region.py checks the list against that module's)
BREAK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "tr", "table", "tbody", "thead", "tfoot", "h1", "h2", "h3", "h4", "h5",
    "h6", "dl", "dt", "dd", "section", "article", "header", "footer", "nav", "aside", "form", "center", "hr",
    "blockquote", "pre", "address", "figure", "figcaption", "caption", "main", "ucapcontent", "ucaptitle", "td",
    "th", "script", "iframe", "style", "noscript", "head", "select", "textarea", "template",
)  # fmt: skip
_BREAK_TAG_RE = re.compile(r"</?(?:" + "|".join(BREAK_TAGS) + r")(?![A-Za-z0-9])[^>]*>", re.IGNORECASE)
_TAGS_RE = re.compile(r"<[A-Za-z/!?][^>]*>")
_TAG = "\x01"  # a tag that may be a line break, a cell break or a mark in the linear rendering
_WS_TABLE = str.maketrans(dict.fromkeys("\n\r\t\xa0\u3000", " "))


def _gapped(label: str, gap: str) -> str:
    """A label's characters with ``gap`` allowed between any two of them."""
    return gap.join(re.escape(ch) for ch in label if ch != " ")


_LABEL_NAMES = sorted(LABELS, key=len, reverse=True)
_DATE = r"(?:19|20)\d{{2}}{gap}(?:[-/.]{gap}\d{{1,2}}|年)"
#: what a date line (`_LINE_DATE_RE`) ends with, widened: 来源, 作者, 浏览, 点击, 阅读, 次浏览
_TAIL = "(?:来|作|浏|点|阅|次)"

# -- in the page source (no numeric character reference in it) ---------------------------------------------------
#: between two characters of a word: spaces, tags (which may render as nothing), named entities
_SRC_GAP = r"(?:\s|<[^>]*>|&\w+;)*"
#: after a label: what renders as a space or as nothing (inline tags), then a colon, a digit, another tag (perhaps a
#: line or cell break), an entity or the end: the labelled-metadata scan could take it
_INLINE = r"(?i:a|span|font|b|strong|em|i|u|small|big|label|img|sup|sub|abbr|cite|code|q|s|strike|tt|var)"
_SRC_LABEL_RE = re.compile(
    "(?:" + "|".join(_gapped(label, _SRC_GAP) for label in _LABEL_NAMES) + ")"
    + rf"(?:\s|&nbsp;|</?{_INLINE}(?=[\s>/])[^>]*>)*+(?:[:：\d<&]|$)"
)
_SRC_COUNT_RE = re.compile(_gapped("次浏览", _SRC_GAP))
_SRC_DATE_LINE_RE = re.compile(_DATE.format(gap=_SRC_GAP) + r"(?:[^\u3400-\u9fffA-Za-z<]|<[^>]*>){0,80}?" + _TAIL)

# -- in the visible text (`_visible`) ------------------------------------------------------------------------------
_VIS_GAP = r"[ \x01]*"
_VIS_LABEL_RE = re.compile(
    "(?:" + "|".join(_gapped(label, _VIS_GAP) for label in _LABEL_NAMES) + r")[ ]*(?:[:：\x01\d]|$)"
)
_VIS_COUNT_RE = re.compile(_gapped("次浏览", _VIS_GAP))
_VIS_DATE_LINE_RE = re.compile(_DATE.format(gap=_VIS_GAP) + r"[^\u3400-\u9fffA-Za-z]{0,40}?" + _TAIL)
_VIS_DATE_RE = re.compile(_DATE.format(gap=_VIS_GAP))

#: a bare date this close to the body (characters of text, whitespace not counted) may be taken
_BARE_REACH = 300
_NOT_COUNTED_RE = re.compile(r"[\s\x01]+")
#: tags of the head, markers and attachment links, anywhere in the source outside the region (lower-cased)
_SOURCE_WORDS = ("<meta", "<base", "<title", "contentstart", "contentend", "zjeg_rss", "信息内容", "downfile")
_ATTACHMENT_RE = re.compile(r"\.(?:pdf|docx?|xlsx?|wps|et|pptx?|zip|rar|ofd|txt)(?![a-z0-9])")
_TITLE_TAG_RE = re.compile(r"<(?:h1|ucaptitle)\b")
_ID_CLASS_RE = re.compile(r"""\b(?:id|class)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")
_SRC_DATE_RE = re.compile(_DATE.format(gap=_SRC_GAP))


@dataclass(frozen=True)
class Region:
    """The head and the top-level element holding the first content marker, as one smaller document."""

    text: str
    #: the page source before and after the region
    outside: tuple[str, str]

    def title_safe(self) -> bool:
        """The page outside the region has no title candidate (h1, ucaptitle, a title-like id or class)."""
        return all(_untitled(source) for source in self.outside)


def _untitled(source: str) -> bool:
    """No piece of this source outside the region holds a title candidate (the latest such sources remembered)."""
    if source in _RECENT_UNTITLED:
        return True
    if any(_title_piece(piece) for piece in source.split("<div")):
        return False
    _RECENT_UNTITLED.append(source)
    del _RECENT_UNTITLED[:-_RECENT_MAX]
    return True


#: sources outside the region found without a title candidate on the latest pages, most recent last
_RECENT_UNTITLED: list[str] = []


def _visible(source: str) -> str:
    """The text the linear rendering shows of ``source``, with `_TAG` where a tag was, whitespace as spaces."""
    text = _BREAK_TAG_RE.sub(_TAG, _HIDDEN_RE.sub("", source))
    return html_lib.unescape(_TAGS_RE.sub("", text)).translate(_WS_TABLE)


def _takes_something(source: str) -> bool:
    """Could the labelled-metadata scan take a label, a count or a date line from this source outside the region?"""
    if "&#" in source:  # a numeric character reference may spell a label: read the text itself
        text = _visible(source)
        return bool(_VIS_LABEL_RE.search(text) or _VIS_COUNT_RE.search(text) or _VIS_DATE_LINE_RE.search(text))
    return bool(_SRC_LABEL_RE.search(source) or _SRC_COUNT_RE.search(source) or _SRC_DATE_LINE_RE.search(source))


def _bare_date_near(before: str) -> bool:
    """Could a bare date before the region be near enough to the body to be taken?

    Read from the last top-level elements before the region (never inside a tag, script or comment), enough of them
    for `_BARE_REACH` characters of text after their last date.
    """
    if _SRC_DATE_RE.search(before) is None and "&#" not in before:
        return False
    tops = _top_level(before)[0]
    for start in reversed([0, *tops]):
        text = _visible(before[start:])
        dates = list(_VIS_DATE_RE.finditer(text))
        if dates:
            return len(_NOT_COUNTED_RE.sub("", text[dates[-1].end() :])) <= _BARE_REACH
        if len(_NOT_COUNTED_RE.sub("", text)) > _BARE_REACH:
            return False
    return False


@lru_cache(maxsize=256)
def _title_piece(source: str) -> bool:
    """Does this piece of the source hold a title candidate of `spiders.release_page._Scan`?"""
    source = source.lower()
    if _TITLE_TAG_RE.search(source):
        return True
    for match in _ID_CLASS_RE.finditer(source):
        value = match.group(1) or match.group(2) or match.group(3) or ""
        if "tit" in value or "bt" in value:  # every title word holds one of them
            for token in value.split():
                if token in TITLE_KEYS or TITLE_TOKEN_RE.search(token):
                    return True
    return False


def _top_level(source: str, start: int = 0, stop: int | None = None) -> tuple[list[int], str]:
    """Where the container start tags at the top level of ``source[start:stop]`` are, and the tag of the last one
    when it is still open at ``stop`` (else "")."""
    stack: list[str] = []
    tops: list[int] = []
    for match in _CONTAINER_TAG_RE.finditer(source, start, len(source) if stop is None else stop):
        name = match.group(3)
        if name is None:
            continue  # a comment, script, style or textarea
        name = name.lower()
        if not match.group(2):
            if not stack:
                tops.append(match.start())
            stack.append(name)
            continue
        for depth in range(len(stack) - 1, -1, -1):  # an end tag closes its element and what is open inside it
            if stack[depth] == name:
                del stack[depth:]
                break
    return tops, stack[0] if stack else ""


_END_TAG_RES: dict[str, re.Pattern[str]] = {}


def _end_of(page: str, start: int, name: str) -> int:
    """The end of the ``name`` element starting at ``start`` (the page's end when it is never closed)."""
    tag_re = _END_TAG_RES.get(name)
    if tag_re is None:
        tag_re = _END_TAG_RES[name] = re.compile(
            rf"<(/?){name}\b[^>]*>|<!--.*?-->|<(script|style|textarea)\b.*?</\2\s*>", re.I | re.S | re.A)
    depth = 0
    for match in tag_re.finditer(page, start):
        if match.group(0).startswith("<!--") or match.group(2):
            continue
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    return len(page)


def _clean_outside(source: str, before: bool) -> bool:
    """Nothing in this source outside the region (before or after it) can be taken by the parser.

    Read in pieces cut before each ``<div``: a ``<div`` start tag is a line break of the linear rendering (or inside
    an element that is not rendered), so no label, count or date line the parser takes spans two pieces, and a label
    ending a piece counts as taken. The pieces are cached: a portal's pages share their navigation and footer, and
    differ in a piece or two (a counter's article id).
    """
    recent = _RECENT_CLEAN[before]
    if source in recent:  # a portal's next page: the same navigation or footer, compared (not hashed) at once
        return True
    if not all(_clean_piece(piece) for piece in source.split("<div")):
        return False
    if before and _bare_date_near_cached(source):
        return False
    recent.append(source)
    del recent[:-_RECENT_MAX]
    return True


#: sources outside the region found clean on the latest pages (after, before), most recent last
_RECENT_CLEAN: tuple[list[str], list[str]] = ([], [])


@lru_cache(maxsize=256)
def _clean_piece(source: str) -> bool:
    lowered = source.lower()
    if any(word in lowered for word in _SOURCE_WORDS) or _ATTACHMENT_RE.search(lowered):
        return False
    return not _takes_something(source)


@lru_cache(maxsize=64)
def _bare_date_near_cached(before: str) -> bool:
    return _bare_date_near(before)


#: the sources before the region of the latest pages (most recent last), to find the next page's region at once
_RECENT_BEFORE: list[str] = []
_RECENT_MAX = 8


def _region_span(page: str, body: int, marker: int) -> tuple[int, int] | None:
    """Where the top-level container holding ``marker`` starts and ends; None when there is none."""
    for before in reversed(_RECENT_BEFORE):
        if page.startswith(before, body):
            start = body + len(before)
            tag = _START_TAG_RE.match(page, start)
            end = _end_of(page, start, tag.group(1).lower()) if tag is not None else 0
            if end > marker:
                return start, end
            break
    tops, name = _top_level(page, body, marker)
    if not name:
        return None
    before = page[body : tops[-1]]
    if before not in _RECENT_BEFORE:
        _RECENT_BEFORE.append(before)
        del _RECENT_BEFORE[:-_RECENT_MAX]
    return tops[-1], _end_of(page, tops[-1], name)


def article_region(page: str) -> Region | None:
    """The page's article region as a document of its own (see the module docstring), or None."""
    body = _BODY_OPEN_RE.search(page)
    if body is None:
        return None
    marker = BEGIN_MARKER_RE.search(page, body.end())
    if marker is None or BEGIN_MARKER_RE.search(page, 0, body.end()) is not None:
        return None
    span = _region_span(page, body.end(), marker.start())
    if span is None:
        return None
    start, end = span
    before, after = page[body.end() : start], page[end:]
    if not (_clean_outside(before, True) and _clean_outside(after, False)):
        return None
    return Region(page[: body.end()] + page[start:end], (before, after))
