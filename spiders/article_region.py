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
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

from spiders.vocabulary import BEGIN_MARKER_RE, LABELS, TITLE_KEYS, TITLE_TOKEN_RE

_BODY_OPEN_RE = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
#: containers whose end tag is never implied: the tags that say which top-level element holds the marker
_CONTAINERS = ("div", "table", "section", "article", "main", "center", "form", "header", "footer", "nav", "aside")
_CONTAINER_TAG_RE = re.compile(
    r"<!--.*?-->|<(script|style|textarea)\b.*?</\1\s*>|<(/?)(" + "|".join(_CONTAINERS) + r")\b[^>]*>",
    re.IGNORECASE | re.DOTALL,
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


def _spaced(label: str) -> str:
    """A label as `spiders.release_page` matches it, spaces and tags allowed between its characters."""
    if label.isascii():
        return re.escape(label).replace(r"\ ", "[ \x01]*")
    return "[ \x01]*".join(re.escape(ch) for ch in label)


_LABELS = "|".join(_spaced(label) for label in sorted(LABELS, key=len, reverse=True))
_DATE = r"(?:19|20)\d{2}[ \x01]*(?:[-/.][ \x01]*\d{1,2}|年)"
#: a label the labelled-metadata scan could take: followed by a colon, a tag (perhaps a line or cell break), a
#: digit (a date), or the end of the text (guard words and stop words are not looked at: this finds more)
_LABEL_RE = re.compile(rf"(?:{_LABELS})[ ]*(?:[:：\x01\d]|$)")
_COUNT_RE = re.compile(r"次[ \x01]*浏[ \x01]*览")
#: a date line: a date, then within its line a source, author, count or read word (`_LINE_DATE_RE`, widened)
_DATE_LINE_RE = re.compile(rf"{_DATE}[^\u3400-\u9fffA-Za-z]{{0,40}}(?:来|作|浏|点|阅|次)")
_DATE_RE = re.compile(_DATE)
#: a bare date this close to the body (characters of text, whitespace not counted) may be taken
_BARE_REACH = 300
_NOT_COUNTED_RE = re.compile(r"[\s\x01]+")
#: tags of the head, markers and attachment links, anywhere in the source outside the region
_SOURCE_RE = re.compile(
    r"<(?:meta|base|title)\b|contentstart|contentend|zjeg_rss|信息内容|downfile"
    r"|\.(?:pdf|docx?|xlsx?|wps|et|pptx?|zip|rar|ofd|txt)(?![a-z0-9])",
    re.IGNORECASE,
)
_TITLE_TAG_RE = re.compile(r"<(?:h1|ucaptitle)\b", re.IGNORECASE)
_ID_CLASS_RE = re.compile(r"""\b(?:id|class)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


@dataclass(frozen=True)
class Region:
    """The head and the top-level element holding the first content marker, as one smaller document."""

    text: str
    #: the page outside the region has no title candidate (h1, ucaptitle, a title-like id or class)
    title_safe: bool


def _visible(source: str) -> str:
    """The text the linear rendering shows of ``source``, with `_TAG` where a tag was, whitespace as spaces."""
    text = _BREAK_TAG_RE.sub(_TAG, _HIDDEN_RE.sub("", source))
    return html_lib.unescape(_TAGS_RE.sub("", text)).translate(_WS_TABLE)


def _takes_something(text: str, before_body: bool) -> bool:
    """Could the labelled-metadata scan take anything from this text outside the region?"""
    if _LABEL_RE.search(text) or _COUNT_RE.search(text) or _DATE_LINE_RE.search(text):
        return True
    if before_body:  # a bare date near the body
        dates = list(_DATE_RE.finditer(text))
        if dates and len(_NOT_COUNTED_RE.sub("", text[dates[-1].end() :])) <= _BARE_REACH:
            return True
    return False


def _has_title_candidate(source: str) -> bool:
    if _TITLE_TAG_RE.search(source):
        return True
    for match in _ID_CLASS_RE.finditer(source):
        for token in (match.group(1) or match.group(2) or match.group(3) or "").lower().split():
            if token in TITLE_KEYS or TITLE_TOKEN_RE.search(token):
                return True
    return False


def _top_level_start(page: str, body: int, marker: int) -> tuple[int, str] | None:
    """Where the outermost container open at ``marker`` starts, and its tag; None when none is open."""
    stack: list[tuple[int, str]] = []
    for match in _CONTAINER_TAG_RE.finditer(page, body, marker):
        name = match.group(3)
        if name is None:
            continue  # a comment, script, style or textarea
        name = name.lower()
        if not match.group(2):
            stack.append((match.start(), name))
            continue
        for depth in range(len(stack) - 1, -1, -1):  # an end tag closes its element and what is open inside it
            if stack[depth][1] == name:
                del stack[depth:]
                break
    return stack[0] if stack else None


def _end_of(page: str, start: int, name: str) -> int:
    """The end of the ``name`` element starting at ``start`` (the page's end when it is never closed)."""
    tag_re = re.compile(rf"<(/?){name}\b[^>]*>|<!--.*?-->|<(script|style|textarea)\b.*?</\2\s*>",
                        re.IGNORECASE | re.DOTALL)
    depth = 0
    for match in tag_re.finditer(page, start):
        if match.group(0).startswith("<!--") or match.group(2):
            continue
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    return len(page)


def article_region(page: str) -> Region | None:
    """The page's article region as a document of its own (see the module docstring), or None."""
    body = _BODY_OPEN_RE.search(page)
    if body is None:
        return None
    marker = BEGIN_MARKER_RE.search(page, body.end())
    if marker is None or BEGIN_MARKER_RE.search(page, 0, body.end()) is not None:
        return None
    top = _top_level_start(page, body.end(), marker.start())
    if top is None:
        return None
    start, name = top
    end = _end_of(page, start, name)
    before, after = page[body.end() : start], page[end:]
    if _SOURCE_RE.search(before) or _SOURCE_RE.search(after):
        return None
    if _takes_something(_visible(before), True) or _takes_something(_visible(after), False):
        return None
    title_safe = not (_has_title_candidate(before) or _has_title_candidate(after))
    return Region(page[: body.end()] + page[start:end], title_safe)
