"""Raw field extraction from one Hanweb (大汉版通) release page.

``parse_release_page`` parses the page (its article region when the page allows it, ``spiders.article_region``)
with lxml and returns the raw release dict of
``docs/architecture.md``. Nothing is normalised here beyond whitespace: dates, hit counts and boilerplate are
the pipelines' business. The words and patterns of the templates (labels, markers, stop words, date and hit
patterns, container words) are ``spiders.vocabulary``; this module is the algorithm that uses them.

How each field is found:

- body: the parent of the first content marker (``<!--<$[信息内容]>begin-->``,
  ``<!--ZJEG_RSS.content.begin-->``, ``<META name=ContentStart>``, any case and quoting), sliced between
  the begin and end markers (to the end of the container when the end marker is missing); without
  markers ``#zoom``, ``.TRS_Editor``, ``<UCAPCONTENT>``, article/content class or id fallbacks, and last
  the largest block of paragraph text (an info line of two or more labelled fields never counts as text).
- labelled metadata (发布日期, 来源, 浏览次数, 索引号, 文号, ``ReleaseDate:``, ``ArticleHits:`` …):
  searched in a linear rendering of the page outside the body container first (before the body wins
  over after), then inside it. Scripts and iframes render as ``\\x00``, so a count drawn by a script
  shows as such. Labels inside list items that link other pages (related/latest lists) are ignored, so
  are hit counts in site footers (site-wide counters), and inside the body a label glued to a longer
  word (``采购公告发布日期``) or a label-less ``点击阅读``/``浏览`` word.
- release date: labelled line, then a PubDate-like meta (never createDate or Maketime), then the
  ``/art/Y/M/D/`` (or TRS ``/tYYYYMMDD_``) URL path.
- title: ArticleTitle meta, the ``<$[标题名称]>`` marker, a visible title element, then ``<title>``.
"""

from __future__ import annotations

import html as html_lib
import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple

from lxml import etree
from lxml import html as lxml_html

from pipelines.html_parser import HTML_PARSER, text_content
from spiders.article_region import article_region
from spiders.links import absolute_url, document_base, is_fetchable_href
from spiders.vocabulary import (
    ART_PATH_RE,
    ATTACHMENT_EXT_RE,
    BEGIN_COMMENT_RE,
    BEGIN_MARKER_RE,
    CONTENT_KEYS,
    DATE_CORE,
    DOWNFILE,
    EMPTY_VALUES,
    END_MARKER_RE,
    FOOTER_RE,
    HITS_VALUE_RE,
    LABEL_GUARD,
    LABELS,
    LINE_DATE_TAIL,
    NON_ARTICLE_RE,
    PUBDATE_METAS,
    SITE_NAME_METAS,
    SOURCE_METAS,
    STOP_WORDS,
    SUFFIX_HITS_RE,
    TIME,
    TITLE_KEYS,
    TITLE_MARKER_RE,
    TITLE_SPLIT_RE,
    TITLE_TOKEN_RE,
    TRS_PATH_RE,
    has_counter_script,
)

# ---- the vocabulary (spiders.vocabulary) put together ----

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")

# ---- linear text ----

_BLOCK_TAGS = frozenset(
    (
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "tbody", "thead", "tfoot", "h1", "h2", "h3", "h4",
        "h5", "h6", "dl", "dt", "dd", "section", "article", "header", "footer", "nav", "aside", "form",
        "center", "hr", "blockquote", "pre", "address", "figure", "figcaption", "caption", "main",
        "ucapcontent", "ucaptitle",
    )
)
_CELL_TAGS = frozenset(("td", "th"))
_OPAQUE_TAGS = frozenset(("script", "iframe"))  # rendered as \x00: "something drawn here by a script"
_SKIP_TAGS = frozenset(("style", "noscript", "head", "select", "textarea", "template"))
_WS_TABLE = str.maketrans(dict.fromkeys("\n\r\t\xa0\u3000\x00\x01\x02\x03", " "))
_BODY_MARK = "\n\x01\n"
_FOOTER_MARK = "\n\x02\n"  # around site footers: a count there is a site-wide counter, never the article's
_ITEM_MARK = "\n\x03\n"  # around list items linking other pages (related/latest lists): no metadata of this page
_ITEM_LINK_MIN = 8  # a link this long in an <li> is a title link

# ---- labels ----


def _spaced(label: str) -> str:
    """Chinese labels may be spread out with spaces (``索 引 号``, ``来　源``)."""
    if label.isascii():
        return re.escape(label).replace(r"\ ", "[ ]?")
    return "[ ]*".join(re.escape(ch) for ch in label)


_ALL_LABELS = sorted({*LABELS, *STOP_WORDS}, key=len, reverse=True)
_LABEL_BODY = r"(?P<label>" + "|".join(_spaced(lab) for lab in _ALL_LABELS) + r")[ ]*(?P<colon>[:：])?"
_LABEL_RE = re.compile(LABEL_GUARD + _LABEL_BODY)
# the same two parts apart, for `_guarded_matches`
_LABEL_BODY_RE = re.compile(_LABEL_BODY)
_LABEL_GUARD_RE = re.compile(LABEL_GUARD)
_LABEL_KEY = {re.sub(r"[ ]", "", lab): lab for lab in _ALL_LABELS}
_VALUE_RE = re.compile(r"[ ]*(?:(?P<script>\x00)|(?P<val>[^\n\t\x00\x01\x02\x03]*))")
_NEXT_CELL_RE = re.compile(r"[ \n]*\t[ \t\n]*(?:(?P<script>\x00)|(?P<val>[^\n\t\x00\x01\x02\x03]*))")
_DATE_RE = re.compile(DATE_CORE + TIME)
# a value ends at a bar, a wide gap, the next label, or a count's 次浏览 suffix (来源：本站 <span></span>次浏览)
_CUT_RE = re.compile(r"[【\[|｜]|[ ]{2,}|(?<![\d:：.\-/])[\d,，]*[ ]*次浏览|" + _LABEL_RE.pattern)
# a date directly before 来源 / 次浏览 / a count is part of a metadata line even without a date label
_LINE_DATE_RE = re.compile("(?P<date>" + DATE_CORE + TIME + LINE_DATE_TAIL)
_NO_DIGIT_BEFORE = r"(?<!\d)"
# `_LINE_DATE_RE` with its leading look-behind apart, for `_guarded_matches`
_LINE_DATE_BODY_RE = re.compile("(?P<date>" + DATE_CORE.removeprefix(_NO_DIGIT_BEFORE) + TIME + LINE_DATE_TAIL)
_NO_DIGIT_BEFORE_RE = re.compile(_NO_DIGIT_BEFORE)

#: Ranks of dates found without a label: a date line (date then 来源/次浏览…) and a bare date next to the body
_BARE_RANK = 7
#: How far (characters of text, whitespace not counted) a bare date may stand from the body
_BARE_DATE_REACH = 300
#: A metadata label this far into a title or further is a metadata line run on after it (`_cut_metadata`)
_TITLE_MIN = 4
#: What may follow a bare date on its line: a bar (【字体…】, | 来源), a bracket
_BARE_DATE_FOLLOWERS = frozenset("【[|｜(（")
_SEGMENT_SPLIT_RE = re.compile(r"[ \t\x00]{2,}|[|｜]")
#: what glued to a count's digits makes it something else than a count (1e6, 12.5.3, 12+)
_NUMBER_GLUE = frozenset("0123456789.+-eE^")
_CJK_RE = re.compile(r"[\u3400-\u9fff]+")  # runs: `_language` counts their characters

RAW_KEYS: tuple[str, ...] = (
    "title", "release_raw", "release_source", "pubdate_raw", "hits_raw", "hits_scripted", "source", "index_no",
    "doc_no", "column_name", "body_html", "attachments_found", "language",
)  # fmt: skip


def collapse_ws(text: str) -> str:
    """Collapse every run of whitespace (incl. U+00A0, U+3000) to one space and strip.

    ``str.split()`` splits on exactly the characters ``\\s`` matches (``str.isspace``), several times faster.
    """
    return " ".join(text.split())


def empty_release() -> dict[str, Any]:
    """The raw release with every key present and nothing found."""
    raw: dict[str, Any] = dict.fromkeys(RAW_KEYS)
    raw["hits_scripted"] = False
    raw["attachments_found"] = []
    return raw


def parse_html(text: str) -> Any | None:
    """The lxml tree of a whole page or a region of it (None when nothing parses): an XML declaration and NUL
    characters dropped, lone surrogates replaced."""
    text = _XML_DECL_RE.sub("", text, count=1).replace("\x00", "")
    if not text.strip():
        return None
    try:
        return lxml_html.document_fromstring(text, parser=HTML_PARSER)
    except (etree.ParserError, ValueError):
        return None
    except UnicodeError:  # lone surrogates
        clean = text.encode("utf-8", "replace").decode("utf-8")
        return lxml_html.document_fromstring(clean, parser=HTML_PARSER)


#: Tags whose id and class `_Scan` never reads (links, metas and <title>).
_UNMARKED_TAGS = frozenset(("a", "meta", "title"))


def id_and_class_of(root: Any) -> Iterator[tuple[Any, str | None, str | None]]:
    """(element, id, class) of every element with an id or a class that `_Scan` reads, in document order, *root*
    included: ``descendant-or-self::*[@id or @class][not(self::a or self::meta or self::title)]``, in a fifth less
    time than that XPath (whose node set lxml builds before the first element is read)."""
    for node in root.iter(etree.Element):
        if node.tag in _UNMARKED_TAGS:
            continue
        id_value, class_value = node.get("id"), node.get("class")
        if id_value is not None or class_value is not None:
            yield node, id_value, class_value


class _Marks(NamedTuple):
    """What an element's id and class tokens say (`_attr_marks`)."""

    zoom: bool
    trs: bool
    content: bool
    title: bool
    footer: bool
    non_article: bool
    logo: bool


@lru_cache(maxsize=4096)  # a portal's pages share their ids and classes: each pair is read once
def _attr_marks(id_value: str | None, class_value: str | None) -> _Marks:
    """What the extraction reads from an element's lower-cased id and class tokens."""
    tokens = frozenset(t for value in (id_value, class_value) if value for t in value.lower().split())
    return _Marks(
        zoom="zoom" in tokens,
        trs="trs_editor" in tokens,
        content=bool(tokens & CONTENT_KEYS),
        title=bool(tokens & TITLE_KEYS) or any(TITLE_TOKEN_RE.search(t) for t in tokens),
        footer=any(FOOTER_RE.match(t) for t in tokens),
        non_article=NON_ARTICLE_RE.search(" ".join(tokens)) is not None,
        logo="logo" in tokens,
    )


def _marks_of(el: Any) -> _Marks:
    return _attr_marks(el.get("id"), el.get("class"))


class _Scan:
    """Everything collected in one pass over the tree."""

    __slots__ = ("begin", "body", "content", "links", "metas", "paragraphs", "title", "title_els", "trs",
                 "ucap", "zoom")  # fmt: skip

    def __init__(self, root: Any) -> None:
        self.metas: dict[str, str] = {}
        self.begin: Any = None
        self.zoom: Any = None
        self.trs: Any = None
        self.ucap: Any = None
        self.content: list[Any] = []
        self.title: str | None = None
        self.title_els: list[tuple[int, Any]] = []
        self.links: list[Any] = []
        self.paragraphs: list[Any] = []
        self.body: Any = None
        # Two passes that lxml filters in C, so Python only sees the nodes it looks at: the tags below (one
        # pass, document order, so a begin comment and a ContentStart meta compete in page order), then the
        # elements with an id or class (document order). Ranks keep title candidates in the order one pass gave.
        comment = etree.Comment
        for node in root.iter(comment, "meta", "a", "p", "title", "body", "ucapcontent", "ucaptitle", "h1"):
            tag = node.tag
            if tag is comment:
                if self.begin is None and node.text and BEGIN_COMMENT_RE.match(node.text):
                    self.begin = node
            elif tag == "meta":
                name = (node.get("name") or node.get("property") or "").strip().lower()
                if name == "contentstart":
                    if self.begin is None:
                        self.begin = node
                elif name and name not in self.metas:
                    self.metas[name] = node.get("content") or ""
            elif tag == "a":
                if node.get("href"):
                    self.links.append(node)
            elif tag == "p":
                self.paragraphs.append(node)
            elif tag == "title":
                if self.title is None:
                    self.title = text_content(node)
            elif tag == "body":
                self.body = node
            elif tag == "ucapcontent":
                self.ucap = self.ucap if self.ucap is not None else node
            elif tag == "ucaptitle":
                self.title_els.append((0, node))
            else:  # h1
                self.title_els.append((3, node))
        for node, id_value, class_value in id_and_class_of(root):
            marks = _attr_marks(id_value, class_value)
            if marks.zoom and self.zoom is None:
                self.zoom = node
            if self.trs is None and marks.trs:
                self.trs = node
            if marks.content:
                self.content.append(node)
            if marks.title:
                self.title_els.append((1, node))


# ---- body ----


def _inner_html(el: Any) -> str:
    parts = [html_lib.escape(el.text, quote=False)] if el.text else []
    parts.extend(etree.tostring(child, encoding="unicode", method="html", with_tail=True) for child in el)
    return "".join(parts)


def _slice_markers(inner: str) -> str:
    begins = list(BEGIN_MARKER_RE.finditer(inner))
    if not begins:
        return inner
    first_end = END_MARKER_RE.search(inner, begins[0].end())
    limit = first_end.start() if first_end else len(inner)
    start = max(m.end() for m in begins if m.end() <= limit)
    end = END_MARKER_RE.search(inner, start)
    return inner[start : end.start()] if end else inner[start:]


def _text_len(el: Any) -> int:
    text = text_content(el)
    links = sum(len(text_content(a)) for a in el.iter("a"))
    return len(collapse_ws(text)) - links


_META_TEXT_MAX = 300


def _is_meta_text(text: str) -> bool:
    """A short text holding two or more labelled metadata fields (发布时间：… 来源：… 索引号：…): an info line."""
    if len(text) > _META_TEXT_MAX:
        return False
    fields = set()
    for m in _guarded_matches(_LABEL_BODY_RE, _LABEL_GUARD_RE, text):
        spec = LABELS.get(_LABEL_KEY.get(m.group("label").replace(" ", ""), ""))
        if spec is not None and m.group("colon"):
            fields.add(spec[0])
    return len(fields) >= 2


def _largest_block(scan: _Scan) -> Any:
    scores: dict[Any, int] = {}
    for p in scan.paragraphs:
        parent = p.getparent()
        if parent is not None and not _is_meta_text(collapse_ws(text_content(p))):
            scores[parent] = scores.get(parent, 0) + _text_len(p)
    if scores:
        best = max(scores, key=scores.__getitem__)
        if scores[best] > 0:
            return best
    best_el, best_len = None, 0
    for el in scan.body.iter("div", "td") if scan.body is not None else ():
        direct = len((el.text or "").strip()) + sum(len((c.tail or "").strip()) for c in el)
        direct += sum(len(text_content(c)) for c in el if c.tag in ("br", "span", "font", "strong", "b"))
        if direct > best_len and not _is_meta_text(collapse_ws(text_content(el))):
            best_el, best_len = el, direct
    return best_el


def _container(scan: _Scan) -> Any:
    if scan.begin is not None and scan.begin.getparent() is not None:
        return scan.begin.getparent()
    for el in (scan.zoom, scan.trs, scan.ucap):
        if el is not None:
            return el
    block = _largest_block(scan)
    cands = [c for c in scan.content if not _marks_of(c).non_article]
    if cands:
        block_len = _text_len(block) if block is not None else 0
        lengths = {c: _text_len(c) for c in cands}
        # the tightest article/content candidate that still holds most of the largest paragraph block
        good = [c for c in cands if lengths[c] > 0 and lengths[c] >= block_len * 0.5]
        if good:
            best = min(good, key=lengths.__getitem__)
            # a candidate that also wraps the title and info line: keep just its paragraph block
            if block is not None and block is not best and _contains(best, block) and block_len >= 0.6 * lengths[best]:
                return block
            return best
    return block


def _contains(outer: Any, inner: Any) -> bool:
    node = inner
    while node is not None:
        if node is outer:
            return True
        node = node.getparent()
    return False


# ---- text ----


def _is_footer(el: Any, skip: Any) -> bool:
    if el.get("id") is None and el.get("class") is None:
        return False
    return _marks_of(el).footer and (skip is None or not _contains(el, skip))


def _is_link_item(el: Any, skip: Any) -> bool:
    if (el.text or "").strip().endswith((":", "：")):
        return False  # <li>来源：<a>…</a></li> is this page's info line
    for a in el.iter("a"):
        if a.get("href") and len(text_content(a).strip()) >= _ITEM_LINK_MIN:
            return skip is None or not _contains(el, skip)
    return False


def _walk(el: Any, out: list[str], skip: Any, in_mark: bool = False) -> None:
    # The hottest loop of the extraction: each lxml property is read once, leaves are not recursed into, and
    # empty separators are not appended (the joined text is the same).
    append = out.append
    for child in el:
        tag = child.tag
        if tag.__class__ is str:  # elements (comments and PIs have a function as tag)
            if child is skip:
                append(_BODY_MARK)
            elif tag in _OPAQUE_TAGS:
                append("\x00")
            elif tag not in _SKIP_TAGS:
                if tag in _BLOCK_TAGS:
                    sep = "\n"
                    if not in_mark:
                        if _is_footer(child, skip):
                            sep = _FOOTER_MARK
                        elif tag == "li" and _is_link_item(child, skip):
                            sep = _ITEM_MARK
                else:
                    sep = "\t" if tag in _CELL_TAGS else ""
                if sep:
                    append(sep)
                text = child.text
                if text:
                    append(text.translate(_WS_TABLE))
                if len(child):
                    _walk(child, out, skip, in_mark or len(sep) > 1)  # a mark (3 characters), not a separator
                if sep:
                    append(sep)
        tail = child.tail
        if tail:
            append(tail.translate(_WS_TABLE))


def _linear_text(el: Any, skip: Any = None) -> str:
    out: list[str] = [el.text.translate(_WS_TABLE)] if el.text else []
    _walk(el, out, skip)
    return "".join(out)


# ---- labels ----


def _cut(value: str) -> str:
    m = _CUT_RE.search(value)
    if m and m.start() == 0 and m.group(0).startswith(("【", "[", "|", "｜", "  ")):
        value = value[m.end() :]
        m = _CUT_RE.search(value)
    return (value[: m.start()] if m else value).strip(" ：:;；,，")


def _count_text(value: str) -> str:
    """The count's text in the value after a hit label: the number and its unit, ``""`` when the count is empty.

    An empty count element is often followed on its line by the date (``浏览次数：<span></span> 2019-03-04``): a
    value that starts with a date has no count. A number glued to more number-like text (``1e6``, ``-3`` never
    matches) is kept whole, so that normalisation refuses it rather than reading a part of it.
    """
    if _DATE_RE.match(value):
        return ""
    hm = HITS_VALUE_RE.match(value)
    if hm is None:
        return value
    rest = value[hm.end() :].lstrip()
    if rest and rest[0] in _NUMBER_GLUE and not _DATE_RE.match(rest):
        return value
    return hm.group(0).strip()


def _value_after(text: str, pos: int) -> tuple[str, bool]:
    """The value following a label ending at ``pos``: (text, drawn_by_script)."""
    m = _VALUE_RE.match(text, pos)
    if m is None:
        return "", False
    if m.group("script"):
        return "", True
    value = _cut(m.group("val") or "")
    if value:
        return value, False
    nxt = _NEXT_CELL_RE.match(text, m.end())
    if nxt is not None:
        if nxt.group("script"):
            return "", True
        return _cut(nxt.group("val") or ""), False
    return "", False


class _Fields:
    """Labelled values found in one linear text, with (after_body, rank, position) keys."""

    def __init__(self) -> None:
        self.found: dict[str, tuple[tuple[int, int, int], str, bool]] = {}

    def offer(self, field: str, key: tuple[int, int, int], value: str, scripted: bool = False) -> None:
        old = self.found.get(field)
        if old is None or key < old[0]:
            self.found[field] = (key, value, scripted)

    def rank(self, field: str) -> int:
        """The rank of the value kept for ``field`` (`_BARE_RANK` and above: found without a label)."""
        return self.found[field][0][1]

    def get(self, field: str) -> tuple[str, bool] | None:
        item = self.found.get(field)
        return (item[1], item[2]) if item else None


def _guarded_matches(body: re.Pattern[str], guard: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """The matches of ``re.compile(guard.pattern + body.pattern).finditer(text)``, found several times faster.

    ``guard`` is zero-width (look-behinds). Without it in front, ``body`` starts with literals and the regex
    engine skips ahead by first character. A body match where the guard fails is no match of the whole pattern
    there, and the search goes on from the next position, exactly as ``finditer`` does.
    """
    pos = 0
    while (m := body.search(text, pos)) is not None:
        if guard.match(text, m.start()) is None:
            pos = m.start() + 1
            continue
        yield m
        pos = m.end() if m.end() > m.start() else m.end() + 1


def _in_spans(pos: int, marks: list[int]) -> bool:
    """Is ``pos`` between an odd and an even mark (inside a marked region)?"""
    return bool(marks) and bisect_right(marks, pos) % 2 == 1


def _marks(text: str, ch: str) -> list[int]:
    return [m.start() for m in re.finditer(ch, text)] if ch in text else []


def _scan_labels(text: str, fields: _Fields, tier: int) -> None:
    body_at = text.find("\x01")
    footer_marks = _marks(text, "\x02")
    item_marks = _marks(text, "\x03")
    for m in _guarded_matches(_LABEL_BODY_RE, _LABEL_GUARD_RE, text):
        label = _LABEL_KEY.get(m.group("label").replace(" ", ""))
        spec = LABELS.get(label or "")
        if spec is None:
            continue
        end = m.end()
        following = text[end : end + 1]
        if not m.group("colon") and following not in ("\t", "\n", "\x00") and not (
            spec[0] == "date" and _DATE_RE.match(text, end)
        ):
            continue
        field, rank = spec
        start = m.start()
        if _in_spans(start, item_marks):
            continue  # 发布时间 of another page, in a related/latest list
        if tier and start and "\u3400" <= text[start - 1] <= "\u9fff" and text[max(0, start - 2) : start] != "信息":
            # inside the body, 发布日期 in 采购公告发布日期 is a date of something else, not a metadata label
            continue
        after = 1 if 0 <= body_at < start else 0
        key = (tier * 2 + after, rank, start)
        value, scripted = _value_after(text, end)
        if field == "hits" and not scripted and not m.group("colon") and not HITS_VALUE_RE.match(value):
            continue  # 点击阅读 / 浏览 as plain words, not a count label
        if field == "hits" and _in_spans(start, footer_marks):
            continue  # a site-wide counter in the page footer
        if field in ("date", "source"):
            dm = _DATE_RE.match(value)
            if dm is not None:
                # 文章来源：2015-07-13 10:44:17 — a source label followed by a date is a date line
                fields.offer("date", (key[0], rank if field == "date" else 6, key[2]), dm.group(0).strip())
                continue
            if field == "date":
                continue
        elif field == "hits":
            value = _count_text(value)
        fields.offer(field, key, value, scripted)
    for m in SUFFIX_HITS_RE.finditer(text) if "次浏览" in text else ():
        if _in_spans(m.start(), footer_marks):
            continue
        after = 1 if 0 <= body_at < m.start() else 0
        fields.offer("hits", (tier * 2 + after, 3, m.start()), m.group("num") or "", bool(m.group("script")))
    for m in _guarded_matches(_LINE_DATE_BODY_RE, _NO_DIGIT_BEFORE_RE, text):
        if _in_spans(m.start(), item_marks):
            continue
        after = 1 if 0 <= body_at < m.start() else 0
        fields.offer("date", (tier * 2 + after, _BARE_RANK, m.start()), m.group("date").strip())
    if "date" not in fields.found:
        _scan_bare_dates(text, fields, tier, body_at, footer_marks, item_marks)


def _only_fields(before: str) -> bool:
    """Nothing but labelled fields (``浏览次数：``, ``来源：本站``) or a count (``12次浏览``) before a bare date on its
    line: the date is in the metadata line, not in a sentence or a list entry."""
    for segment in _SEGMENT_SPLIT_RE.split(before):
        segment = segment.strip(" \t\x00")
        if segment and not (_LABEL_RE.match(segment) or SUFFIX_HITS_RE.fullmatch(segment)):
            return False
    return True


def _scan_bare_dates(text: str, fields: _Fields, tier: int, body_at: int, footer_marks: list[int],
                     item_marks: list[int]) -> None:
    """An unlabelled date standing alone on its line next to the body (``<span class="time">2019-03-04 10:00</span>``).

    Outside the body: the bare date nearest before the body marker, at most `_BARE_DATE_REACH` characters of text
    away (the title and info line sit between a header date widget and the body). Inside the body container (an
    info line the container wraps): only within its first `_BARE_DATE_REACH` characters. The date must start its
    line and nothing but a bar, a label or the line's end may follow it (``2019年3月4日，区政府…`` is body text).
    Dates in footers, related lists, the body's signature and metas are never taken.
    """
    if tier == 0:
        if body_at < 0:
            return
        start, stop = max(0, body_at - 4 * _BARE_DATE_REACH), body_at
    else:
        start, stop = 0, min(len(text), _BARE_DATE_REACH)
    best: tuple[int, str] | None = None
    for m in _DATE_RE.finditer(text, start, stop):
        pos = m.start()
        line_start = text.rfind("\n", 0, pos) + 1
        if not _only_fields(text[line_start:pos]):
            continue
        line_end = text.find("\n", m.end())
        rest = text[m.end() : line_end if line_end >= 0 else len(text)].lstrip(" \t\x00")
        if rest and not (rest[0] in _BARE_DATE_FOLLOWERS or _LABEL_RE.match(rest)):
            continue
        if _in_spans(pos, item_marks) or _in_spans(pos, footer_marks):
            continue
        if tier == 0 and len("".join(text[m.end() : body_at].split())) > _BARE_DATE_REACH:
            continue
        if best is None or tier == 0:  # outside: the last one before the body; inside: the first
            best = (pos, m.group(0).strip())
    if best is not None:
        fields.offer("date", (tier * 2, _BARE_RANK + 1, best[0]), best[1])


# ---- title ----


_ENTITY_RE = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_MARKUP_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_BREAK_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)
_CJK_CLASS = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef\u2010-\u205f]"  # CJK, CJK and general punctuation
_CJK_GAP_RE = re.compile(rf"(?<={_CJK_CLASS})\n+(?={_CJK_CLASS})")


def _title_text(text: str | None, element: bool = False) -> str:
    """A title as text: markup a CMS left in it removed (``<div>``, ``<br>``), entities it escaped twice decoded,
    a line break dropped between CJK characters and a space elsewhere, whitespace collapsed, and a metadata line
    run on after it (``…的通知发布日期：2019-03-04 来源：…``) cut off."""
    if not text:
        return ""
    for _ in range(2):  # "&amp;ldquo;" is "&ldquo;" once parsed: one more round decodes it
        if "<" in text and _MARKUP_RE.search(text):
            text = _MARKUP_RE.sub("", _BREAK_RE.sub("\n", text))
        if "&" in text and _ENTITY_RE.search(text):
            text = html_lib.unescape(text)
    text = _CJK_GAP_RE.sub("", text)
    return _cut_metadata(collapse_ws(text), element)


def _cut_metadata(title: str, element: bool) -> str:
    """``title`` up to a labelled metadata field (发布日期：, 来源：, 浏览次数：…) run on after it; for the text of a
    title element (which may wrap the info line) also up to a date line, a ``次浏览`` count or a date ending it."""
    cut = len(title)
    for m in _guarded_matches(_LABEL_BODY_RE, _LABEL_GUARD_RE, title):
        spec = LABELS.get(_LABEL_KEY.get(m.group("label").replace(" ", ""), ""))
        if spec is not None and m.group("colon") and m.start() >= _TITLE_MIN:
            cut = m.start()
            break
    if element:
        line = _LINE_DATE_RE.search(title, _TITLE_MIN, cut)
        if line is not None:
            cut = line.start()
        count = SUFFIX_HITS_RE.search(title, _TITLE_MIN, cut)
        if count is not None:
            cut = count.start()
        for date in _DATE_RE.finditer(title, _TITLE_MIN, cut):
            rest = title[date.end() : cut].strip()
            if not rest or rest[0] in _BARE_DATE_FOLLOWERS:  # a date ending the title is its date line
                cut = date.start()
                break
    return title[:cut].rstrip(" |｜-—_")


def _element_text(el: Any) -> str:
    """The text of a title element, a ``<br>`` read as a line break (see `_title_text`)."""
    if el.find(".//br") is None:
        return text_content(el)
    parts: list[str] = []

    def walk(node: Any) -> None:
        if node.text:
            parts.append(node.text)
        for child in node:
            if child.tag == "br":
                parts.append("\n")
            elif isinstance(child.tag, str) and child.tag not in _SKIP_TAGS and child.tag not in _OPAQUE_TAGS:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return "".join(parts)


def _marked_title(scan: _Scan, page: str) -> str:
    """The title the ArticleTitle meta or the ``<$[标题名称]>`` marker gives ("" when neither does)."""
    meta = _title_text(scan.metas.get("articletitle", ""))
    if meta:
        return meta
    if "标题名称" in page:
        m = TITLE_MARKER_RE.search(page)
        if m:
            return _title_text(m.group(1))
    return ""


def _title(scan: _Scan, page: str, marked: str) -> str | None:
    """The title: ``marked`` (`_marked_title`) when there is one, else from the page's title elements."""
    if marked:
        return marked
    head = _title_text(scan.title or "")
    site = {collapse_ws(scan.metas.get(name, "")) for name in SITE_NAME_METAS} - {""}
    if head in site:
        head = ""  # a <title> that names the site only says nothing about the article
    parts = [p for p in TITLE_SPLIT_RE.split(head) if p] if head else []
    cands: list[tuple[int, str]] = []
    for rank, el in sorted(scan.title_els, key=lambda x: x[0]):
        if any((marks := _marks_of(anc)).non_article or marks.logo for anc in el.iterancestors()):
            continue
        text = _title_text(_element_text(el), element=True)
        if 2 <= len(text) <= 300:
            cands.append((rank, text))
    if head:
        inside = [t for _, t in cands if t in head and not (len(parts) > 1 and t == parts[0])]
        if inside:
            return max(inside, key=len)
    for rank, text in cands:
        if (rank < 3 or not head) and len(text) >= 4:
            return text
    if len(parts) >= 3:
        # Hanweb writes "site column title"; TRS writes "title_column_site": the title is the longer end
        return parts[0] if len(parts[0]) > len(parts[-1]) else parts[-1]
    if len(parts) == 2:
        return max(parts, key=len)
    if head:
        return head
    return cands[0][1] if cands else None


# ---- misc ----


def _attachments(scan: _Scan, base: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for a in scan.links:
        href = a.get("href", "").strip()
        if not is_fetchable_href(href):
            continue
        path = href.split("#", 1)[0].split("?", 1)[0]
        if not (ATTACHMENT_EXT_RE.search(path) or DOWNFILE in href.lower()):
            continue
        if any(_marks_of(anc).non_article for anc in a.iterancestors()):
            continue
        # http://[bad/x.pdf, //[x/y.doc: listed as written, never requested (skip_reason malformed_url)
        joined = absolute_url(base, href)
        url, malformed = (href, True) if joined is None else (joined, False)
        if url in seen:
            continue
        seen.add(url)
        name = collapse_ws(text_content(a)) or collapse_ws(a.get("title", "")) or path.rsplit("/", 1)[-1]
        found.append({"url": url, "name": name, "malformed": True} if malformed else {"url": url, "name": name})
    return found


_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _language(sample: str) -> str | None:
    """"en" when the sample has ten times more Latin letters than CJK characters, "zh" when it has some, else None.

    The Latin letters are counted on the bytes of the sample's ASCII characters, and the CJK runs only until they
    decide the answer (a Chinese page's first run usually does).
    """
    ascii_part = sample.encode("ascii", "ignore")
    latin = len(ascii_part) - len(ascii_part.translate(None, _ASCII_LETTERS))
    cjk = 0
    for run in _CJK_RE.finditer(sample):
        cjk += run.end() - run.start()
        if cjk * 10 >= latin:
            return "zh"
    return "en" if latin else None


def _url_date(url: str) -> str | None:
    m = ART_PATH_RE.search(url)
    if m:
        return f"{m.group(1)}/{m.group(2)}/{m.group(3)}"
    m = TRS_PATH_RE.search(url)
    if m:
        return f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    return None


def _clean_value(value: str | None) -> str | None:
    if value is None:
        return None
    value = collapse_ws(value)
    return None if value in EMPTY_VALUES else value


def parse_release_page(html: str, url: str) -> dict[str, Any]:
    """Extract the raw release fields (see ``docs/architecture.md``) from one decoded release page."""
    return parse_release_document(html, url)[0]


def parse_release_document(html: str, url: str, *, use_region: bool = True) -> tuple[dict[str, Any], Any | None]:
    """`parse_release_page` and the lxml tree the fields were read from (None when the page does not parse).

    The fields are read from the article region alone when the page allows it (``spiders.article_region``: same
    fields, a fraction of the work), else from the whole page; the tree returned is the region's or the page's.
    ``use_region=False`` reads the whole page always (the reference the region is tested against).
    """
    if use_region and (region := article_region(html)) is not None:
        raw, root, marked = _parse_document(html, url, region.text)
        if root is not None and (marked or region.title_safe()):
            return raw, root
    return _parse_document(html, url, html)[:2]


#: For these fields, characters one of which every label of the field holds (索引号 文号 …号; 来源 稿源 …源, 发布机构,
#: Source): a container whose text has none of them cannot give the field. The linear text of the labelled scan is
#: made of the container's text nodes, so a label in it has its characters in ``text_content()``.
LABEL_WITNESSES = {"index_no": "号", "doc_no": "号", "source": "源构S"}


def _may_give(container: Any, missing: list[str]) -> bool:
    """Could the labelled scan of the body container find any of the ``missing`` fields?

    Inside the body only a label can give an index or document number or a source (its values found there lose
    to any found outside), so the scan is skipped when only those are missing and no label of theirs can be there.
    """
    if any(field not in LABEL_WITNESSES for field in missing):
        return True
    text = text_content(container)
    return any(ch in text for field in missing for ch in LABEL_WITNESSES[field])


def _parse_document(html: str, url: str, parsed: str) -> tuple[dict[str, Any], Any | None, bool]:
    """The fields of the page ``html`` read from the tree of ``parsed`` (the page itself or its article region),
    the tree, and whether the title came from the ArticleTitle meta or the title marker."""
    raw = empty_release()
    root = parse_html(parsed)
    if root is None:
        date = _url_date(url)
        if date:
            raw["release_raw"], raw["release_source"] = date, "url_path"
        return raw, None, False
    scan = _Scan(root)
    base = document_base(root, url)

    container = _container(scan)
    if container is not None:
        raw["body_html"] = _slice_markers(_inner_html(container))

    # labelled metadata: outside the body first, then inside it
    fields = _Fields()
    top = scan.body if scan.body is not None else root
    _scan_labels(_linear_text(top, skip=container), fields, tier=0)
    missing = [f for f in ("date", "source", "hits", "index_no", "doc_no") if f not in fields.found]
    if container is not None and container is not top and missing and _may_give(container, missing):
        _scan_labels(_linear_text(container), fields, tier=1)

    for name in PUBDATE_METAS:
        content = scan.metas.get(name, "").strip()
        if content and _DATE_RE.search(content):
            raw["pubdate_raw"] = content
            break
    labelled = fields.get("date")
    if labelled:
        bare = fields.rank("date") >= _BARE_RANK
        raw["release_raw"], raw["release_source"] = labelled[0], "bare_text" if bare else "labelled_text"
    elif raw["pubdate_raw"]:
        raw["release_raw"], raw["release_source"] = raw["pubdate_raw"], "meta_pubdate"
    else:
        url_date = _url_date(url)
        if url_date:
            raw["release_raw"], raw["release_source"] = url_date, "url_path"

    hits = fields.get("hits")
    if hits is not None:
        value, scripted = hits
        if not value and not scripted and has_counter_script(html):
            scripted = True  # an empty label filled in by a counter script
        raw["hits_raw"] = "" if scripted else value
        raw["hits_scripted"] = scripted

    source = fields.get("source")
    raw["source"] = _clean_value(source[0] if source else None)
    if raw["source"] is None:
        for name in SOURCE_METAS:
            raw["source"] = _clean_value(scan.metas.get(name))
            if raw["source"]:
                break
    for field in ("index_no", "doc_no"):
        found = fields.get(field)
        raw[field] = _clean_value(found[0] if found else None)

    raw["column_name"] = collapse_ws(scan.metas.get("columnname", "")) or None
    marked = _marked_title(scan, html)
    raw["title"] = _title(scan, html, marked)
    raw["attachments_found"] = _attachments(scan, base)
    sample = (raw["title"] or "") + " " + (text_content(container)[:3000] if container is not None else "")
    raw["language"] = _language(sample)
    return raw, root, bool(marked)
