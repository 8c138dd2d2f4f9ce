"""The CMS's not-found page served with status 200 (a *soft 404*), and links that lead back to the portal's
home or a column page: how a release URL that is no release is recognised.

Decision (docs/reliability.md, "Soft 404s"): a page is the CMS's error page when

1. its ``<title>`` says so (``页面不存在``, ``页面未找到``, ``您访问的页面不存在``, ``Not Found``, ``404 错误`` ...:
   `ERROR_TITLE`); a real release's title is its own headline, which never reads like that; or
2. it is short (at most `SHORT_TEXT` characters of visible text, a release's body alone is longer) **and** carries
   an error phrase (`ERROR_PHRASES`) or a mark of Hanweb's error template (`TEMPLATE_MARKS`: ``/module/error/``,
   ``error404`` ...) **and** none of the labels every release page prints (发布日期, 发布时间, 索引号, 来源：...).

The size of the column's other releases is not used: columns mix one-line notices with long documents, so size
alone would call short releases errors; the title and phrase rules need no comparison. A page that talks *about* a
missing page (a release quoting "页面不存在" in its body) keeps its own title and its labels, so it stays a release.

A target is the home page or a column (`is_index_url`) when its path is ``/``, ends in ``/`` or ``index.*`` /
``default.*``, or is a Hanweb column path ``/col/colN/``: a release never lives there.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: Titles of not-found pages (Chinese and English forms CMSs use).
ERROR_TITLE = re.compile(
    r"页面不存在|页面未找到|找不到(?:该|此|您要的)?页面|页面已(?:删除|失效)|(?:信息|文章|内容|栏目)(?:已删除|不存在)"
    r"|访问的页面不存在|\b404\b\s*(?:错误|error|not\s*found|页面)?|not\s+found|出错了|错误提示",
    re.IGNORECASE)
#: Phrases of not-found pages, looked for in short pages only.
ERROR_PHRASES = re.compile(
    r"您访问的页面不存在|页面不存在|页面未找到|已被删除|已删除或|信息已删除|该信息不存在|文章不存在|内容不存在"
    r"|没有找到(?:相关|您要)|page\s+not\s+found|404\s+not\s+found|页面已失效|链接已失效",
    re.IGNORECASE)
#: Marks of Hanweb's (and its neighbours') error templates.
TEMPLATE_MARKS = re.compile(r"/module/error/|error404|404\.(?:jpg|png|gif)|class=[\"']?(?:error|err404|notfound)",
                            re.IGNORECASE)
#: Labels every release page prints (one is enough to be a release, whatever else the page says).
RELEASE_LABELS = re.compile(
    r"发布(?:日期|时间)|索引号|发文日期|成文日期|信息来源|来源\s*[:：]|文\s*号\s*[:：]|Release\s*Date", re.IGNORECASE)
#: Most characters of visible text an error page has (a release's body alone is longer).
SHORT_TEXT = 1500

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_INVISIBLE = re.compile(r"<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_COLUMN_PATH = re.compile(r"/col/col\d+(?:/|$)", re.IGNORECASE)
_INDEX_NAME = re.compile(r"^(?:index|default|main)\.(?:s?html?|jsp|aspx?|php)$", re.IGNORECASE)


def page_title(html: str) -> str:
    """The text of the page's ``<title>`` (whitespace collapsed), or ``""``."""
    match = _TITLE.search(html[:20_000])
    return _SPACE.sub(" ", _TAG.sub("", match.group(1))).strip() if match else ""


def visible_text(html: str) -> str:
    """The page's text without scripts, styles, comments and tags, whitespace collapsed."""
    return _SPACE.sub(" ", _TAG.sub(" ", _INVISIBLE.sub(" ", html))).strip()


#: Pieces without whitespace of which every match of `ERROR_PHRASES` in the visible text holds one (the visible text
#: is the source cut at tags, scripts and comments, so a piece of it without spaces is a piece of the source), each
#: with a character of it to test first (a one-character test is much cheaper than a substring search). CPython
#: finds one character of a CJK string by ``memchr`` on its code point's low byte: 删 (U+5220) stops at every space
#: and 效 (U+6548) at every ``H``, so 被 (AB) and 已 (F2) stand for their pieces.
_PHRASE_PIECES = (("存", "不存在"), ("找", "页面未找到"), ("找", "没有找到"), ("被", "已被删除"), ("已", "已删除"),
                  ("已", "已失效"))
#: The ASCII pieces, lower-cased: ``found`` of `ERROR_PHRASES`; ``err``, ``found`` (in ``notfound``) and ``404.``
#: hold every alternative of `TEMPLATE_MARKS` (searched in the source). No non-ASCII character matches their letters
#: under ``re.IGNORECASE`` (as ``ſ`` would an ``s``), so they are looked for in the page's ASCII characters.
_ASCII_PIECES = (b"found", b"err", b"404.")


def ascii_lowered(html: str) -> bytes:
    """The ASCII characters of *html*, in order and lower-cased: a word of ASCII letters in *html*, in any case, is
    in it (and words may join across the characters left out: a maybe, never a miss)."""
    return html.encode("ascii", "ignore").lower()


def _may_say_not_found(html: str, ascii_lower: bytes | None = None) -> bool:
    """False when neither `ERROR_PHRASES` (in the visible text) nor `TEMPLATE_MARKS` can match *html*: a few
    substring tests instead of rendering the visible text of every release page (0.1 ms instead of 0.3 here).
    *ascii_lower* is `ascii_lowered` of *html* when the caller has it."""
    if any(char in html and piece in html for char, piece in _PHRASE_PIECES):
        return True
    ascii_only = ascii_lowered(html) if ascii_lower is None else ascii_lower
    return any(piece in ascii_only for piece in _ASCII_PIECES)


def soft_404_reason(html: str, ascii_lower: bytes | None = None) -> str | None:
    """Why *html* is the CMS's not-found page (a short sentence for the failure row), or None when it is not.
    *ascii_lower* is `ascii_lowered` of *html* when the caller has it."""
    title = page_title(html)
    if title and ERROR_TITLE.search(title):
        return f"the page's title is an error page's: {title[:80]!r}"
    if len(html) > 200_000 or not _may_say_not_found(html, ascii_lower):
        return None
    text = visible_text(html)
    if len(text) > SHORT_TEXT or RELEASE_LABELS.search(text):
        return None
    phrase = ERROR_PHRASES.search(text)
    if phrase:
        return f"a short page ({len(text)} characters) saying {phrase.group(0)!r}"
    if TEMPLATE_MARKS.search(html):
        return f"a short page ({len(text)} characters) from the CMS's error template"
    return None


def is_index_url(url: str, start_urls: list[str] | tuple[str, ...] = ()) -> bool:
    """True when *url* is the portal's home page, a start URL or a column / index page (never a release)."""
    if url in start_urls:
        return True
    path = urlsplit(url).path or "/"
    if _COLUMN_PATH.search(path):
        return True
    last = path.rsplit("/", 1)[-1]
    return last == "" or bool(_INDEX_NAME.match(last))
