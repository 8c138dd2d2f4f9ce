"""Boilerplate stripping of the release body and the ``body_text`` rendering.

Removed from the body container:

- scripts, styles, iframes, noscript, objects, forms' buttons, comments, ``<meta>``/``<link>`` (the content
  markers), ``visit.jsp`` counters;
- the hidden ``Produced By 大汉网络`` / hanweb.com link and ``div#hiddenLocation``;
- any element (and any br-separated line) whose whole text is boilerplate:
  【打印本页】【关闭窗口】【打印页面】【关闭页面】【TOP】 and ``[打印]`` variants,
  ``字体：【大中小】`` / ``字号：大中小`` bars, 分享到 share bars, 上一篇/下一篇,
  扫一扫在手机打开当前页, 责任编辑, 网站地图, 主办单位 footer lines,
  ICP/公安备案/网站标识码 lines, and metadata lines (``ReleaseDate … ArticleHits``,
  发布日期 … 浏览次数) that leaked into the container;
- 相关链接 / 相关文章 / 相关阅读 … blocks: a heading with the link lists after it, or one block that is the
  heading plus mostly link text.

In ``body_text`` a table row of two or more cells is one block, its cells joined by a space, even when the
cells hold ``<p>``/``<div>`` (Word-pasted tables); a cell holding long multi-paragraph text is page layout
and keeps its paragraphs.

Attachment links and images are kept.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lxml import etree

from pipelines.html_parser import fragment_root, text_content
from pipelines.item_fields import item_fields

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

_DROP_TAGS = ("script", "style", "iframe", "noscript", "object", "embed", "meta", "link", "button", "input",
              "select", "textarea", "template")  # fmt: skip
_COUNTER_RE = re.compile(r"visit\.jsp|visitcount|articlehits|artcount", re.IGNORECASE)
_PRODUCED_BY = "Produced By 大汉网络 大汉版通发布系统"

_BR = r"[【\[［(（]?"
_BR_END = r"[】\]］)）]?"
_TOKEN = (
    r"打印本页|关闭窗口|打印页面|关闭页面|打印此页|打印文章|打印正文|关闭本页|关闭|打印|TOP|返回顶部|回到顶部|"
    r"收藏|加入收藏|纠错|我要纠错|Print|Close|Back to top"
)
_FONT_BAR = (
    r"(?:字体|字号|Font ?Size)[ ]*[:：]?[ ]*[【\[［]?[ ]*\[?大\]?[ ]*\[?中\]?[ ]*\[?小\]?[ ]*[】\]］]?"
    r"|[【\[］]?[ ]*(?:字体|字号)[ ]*[:：]?[ ]*[】\]］]?[ ]*(?:[【\[][大中小][】\]][ ]*){3}"
)
#: a block or line made only of these is boilerplate
_ONLY_RE = re.compile(
    rf"^(?:[ |｜/·•\-]*(?:{_BR}[ ]*(?:{_TOKEN})[ ]*{_BR_END}|{_FONT_BAR}|{re.escape(_PRODUCED_BY)}))+"
    r"[ |｜/·•\-]*$",
    re.IGNORECASE,
)
#: a block or line starting with one of these (and short) is boilerplate
_LEAD_RE = re.compile(
    r"^[ 【\[]*(?:分享到|分享至|上一篇|下一篇|上一条|下一条|扫一扫在手机打开当前页|扫码查看手机版|扫一扫|"
    r"是否打开信息无障碍浏览|责任编辑|网站地图|网站标识码|"
    r"[京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新]ICP|ICP备|公安备案|公网安备|"
    r"Copyright ?(?:©|\(c\)|&copy;|\d{4})|版权所有|Produced By|Previous ?[:：]|Next ?[:：])"
)
_LEAD_MAX = 200
_ANYWHERE_RE = re.compile(
    r"ICP备\d|公网安备\s*\d|网站标识码[:：]?\s*\w|版权所有[ ]*[:：©]"
    r"|^主办单位[:：].*(?:承办|版权|ICP|标识码|技术支持|地址|备案)"
)
_ANYWHERE_MAX = 160
#: a metadata line that leaked into the container
_META_STRONG = (
    r"ReleaseDate|Release Date|ArticleHits|发布日期|发布时间|发文日期|成文日期|公开日期|上载日期|"
    r"浏览次数|点击数|访问量|阅读次数"
)
_META_LABEL = _META_STRONG + r"|信息来源|文章来源|来[ ]*源|发布机构|作者"
_META_LINE_RE = re.compile(rf"^[ \[【]*(?:(?P<strong>{_META_STRONG})|{_META_LABEL})[ ]*[:：]")
_META_LINE_MAX = 160
_META_SECOND_RE = re.compile(rf"(?:{_META_LABEL})[ ]*[:：]|(?:19|20)\d\d[-/.年]\d|次浏览")
_INLINE_TOKEN_RE = re.compile(
    r"[【\[](?:打印本页|关闭窗口|打印页面|关闭页面|TOP|打印|关闭)[】\]]|" + re.escape(_PRODUCED_BY)
)
_INLINE_TOKEN_STARTS = ("【", "[", _PRODUCED_BY[:11])

_BLOCK_TAGS = frozenset(
    (
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr", "table", "tbody", "thead",
        "tfoot", "section", "article", "header", "footer", "nav", "aside", "blockquote", "pre", "center",
        "dl", "dt", "dd", "form", "hr", "address", "figure", "figcaption", "caption", "main", "fieldset",
        "ucapcontent", "ucaptitle",
    )
)  # fmt: skip
_CELL_TAGS = frozenset(("td", "th"))
_BLOCK_SEP = "\x1e"  # structural line break, never present in text nodes
_LINE_TAGS = _BLOCK_TAGS | _CELL_TAGS | {"br"}


def _norm(text: str) -> str:
    # ``str.split()`` splits on exactly what ``\s`` matches (``str.isspace``): ``\s+`` -> " ", stripped, faster
    return " ".join(text.split())


def is_boilerplate_line(text: str) -> bool:
    """True when a whole block or br-separated line of text (whitespace-collapsed) is boilerplate."""
    if not text:
        return False
    if _ONLY_RE.match(text):
        return True
    if len(text) <= _LEAD_MAX and _LEAD_RE.match(text):
        return True
    if len(text) <= _ANYWHERE_MAX and _ANYWHERE_RE.search(text):
        return True
    meta = _META_LINE_RE.match(text) if len(text) <= _META_LINE_MAX else None
    if meta is not None:
        # a date/count label line, or 来源/作者 together with a date or another label
        rest = text[meta.end() :]
        return bool((meta.group("strong") and len(rest) <= 60) or _META_SECOND_RE.search(rest))
    return False


def _remove(el: Any) -> None:
    """Remove ``el`` but keep its tail text."""
    el.drop_tree()


def _strip_noise(root: Any) -> None:
    for el in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        _remove(el)
    for el in list(root.iter(*_DROP_TAGS)):
        if el.getparent() is not None:
            _remove(el)
    for el in list(root.iter("a", "img", "div", "span")):
        if el.getparent() is None:
            continue
        href = (el.get("href") or el.get("src") or "").lower()
        hanweb_link = el.tag == "a" and ("hanweb.com" in href or _PRODUCED_BY in text_content(el))
        if hanweb_link or el.get("id") == "hiddenLocation" or _COUNTER_RE.search(href):
            _remove(el)


_RELATED_HEADINGS = (
    r"相关链接|相关文章|相关阅读|相关新闻|相关信息|相关稿件|相关文件|相关政策|相关解读|延伸阅读|推荐阅读|"
    r"热点推荐|热门文章|猜你喜欢|Related{ws}(?:Links|Articles|News)"
)
_RELATED_HEAD_RE = re.compile(
    r"^[ 【\[［]*(?:" + _RELATED_HEADINGS.format(ws=" ") + r")[ 】\]］]*[:：]?", re.IGNORECASE
)
# The search below runs over every body: written so that the regex engine can skip ahead by first character
# (a pattern compiled with IGNORECASE is tried at every position). Only the English words fold case; their first
# letter R has no other case-insensitive match than r, so they mean exactly what IGNORECASE would.
_CJK_HEADINGS = _RELATED_HEADINGS.split("|Related")[0]
#: a heading word anywhere in a body's text (any whitespace in ``Related Links``, as before `_norm`)
_RELATED_HEADING_RE = re.compile(
    _CJK_HEADINGS + r"|R(?i:elated\s+(?:Links|Articles|News))|r(?i:elated\s+(?:Links|Articles|News))"
)
_LIST_NOISE_RE = re.compile(r"[\d\s\-/.:：年月日()（）\[\]【】|·•>›»]+")
_RELATED_HEAD_MAX = 14


def _link_dominated(el: Any, skip: int = 0) -> bool:
    """Is the element's text (after ``skip`` characters, dates and bullets dropped) mostly link text?"""
    text = _LIST_NOISE_RE.sub("", _norm(text_content(el))[skip:])
    if not text:
        return True
    links = sum(len(_LIST_NOISE_RE.sub("", text_content(a))) for a in el.iter("a") if a.get("href"))
    return links > 0 and links >= 0.6 * len(text)


def _drop_related_lists(root: Any) -> None:
    """Drop 相关链接 / 相关文章 / 相关阅读 blocks (a heading and a list of links) inside the body."""
    if not _RELATED_HEADING_RE.search(text_content(root)):
        return  # every heading `_RELATED_HEAD_RE` takes is in the text, whitespace aside
    for el in list(root.iter(*_LINE_TAGS)):
        if el.getparent() is None or el is root:
            continue
        text = _norm(text_content(el))
        head = _RELATED_HEAD_RE.match(text)
        if head is None or _has_attachment(el):
            continue
        if len(text) <= _RELATED_HEAD_MAX and head.end() >= len(text) - 1:
            # a heading of its own: it and the link lists right after it go
            sibling = el.getnext()
            while sibling is not None and isinstance(sibling.tag, str) and _link_dominated(sibling):
                nxt = sibling.getnext()
                _remove(sibling)
                sibling = nxt
            _remove(el)
        elif _link_dominated(el, head.end()):
            _remove(el)


def _drop_boilerplate_blocks(el: Any) -> None:
    """Top-down: drop every element whose whole text is boilerplate, else look inside it."""
    for child in list(el):
        if not isinstance(child.tag, str):
            continue
        text = _norm(text_content(child))
        if text and is_boilerplate_line(text) and not _has_attachment(child):
            _remove(child)
        elif len(child):
            _drop_boilerplate_blocks(child)


def _has_attachment(el: Any) -> bool:
    return any("downfile" in (a.get("href") or "") for a in el.iter("a"))


def _drop_boilerplate_lines(root: Any) -> None:
    """Blank text runs (between block/br boundaries) that are boilerplate, e.g. a leaked metadata line."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attr in ("text", "tail"):
            value = el.text if attr == "text" else el.tail
            if not value or value.isspace():
                continue
            # every inline token starts with one of these: the substitution is skipped for text without any
            cleaned = _INLINE_TOKEN_RE.sub("", value) if any(s in value for s in _INLINE_TOKEN_STARTS) else value
            if _is_whole_line(el, attr) and is_boilerplate_line(_norm(cleaned)):
                cleaned = ""
            if cleaned != value:
                setattr(el, attr, cleaned)


def _is_whole_line(el: Any, attr: str) -> bool:
    """Is this text run bounded by line boundaries on both sides (so it is a line of its own)?"""
    if attr == "text":
        first = el[0] if len(el) else None
        return el.tag in _LINE_TAGS and (first is None or first.tag in _LINE_TAGS)
    nxt = el.getnext()
    parent = el.getparent()
    before_ok = el.tag in _LINE_TAGS
    after_ok = nxt.tag in _LINE_TAGS if nxt is not None else parent is None or parent.tag in _LINE_TAGS
    return before_ok and after_ok


def _parse_fragment(body_html: str) -> Any:
    return fragment_root(body_html.replace("\x00", ""))


def clean_body_tree(body_html: str) -> Any:
    """Parse a body fragment and strip boilerplate; returns the wrapping ``<div>`` element."""
    root = _parse_fragment(body_html)
    _strip_noise(root)
    _drop_related_lists(root)
    _drop_boilerplate_blocks(root)
    _drop_boilerplate_lines(root)
    return root


def _inner_html(root: Any) -> str:
    from html import escape

    parts = [escape(root.text, quote=False)] if root.text else []
    parts.extend(etree.tostring(c, encoding="unicode", method="html", with_tail=True) for c in root)
    return "".join(parts).strip()


def clean_body_html(body_html: str) -> str:
    """Return the body HTML without boilerplate (see the module docstring for what that is)."""
    if not body_html or not body_html.strip():
        return ""
    return _inner_html(clean_body_tree(body_html))


_LAYOUT_CELL_TEXT = 300  # a cell holding this much text in several paragraphs is page layout, not data


def _is_data_row(tr: Any) -> bool:
    """A table row of two or more cells that is not page layout: rendered as one block, cells joined."""
    cells = [c for c in tr if isinstance(c.tag, str) and c.tag in _CELL_TAGS]
    if len(cells) < 2:
        return False
    for cell in cells:
        if sum(1 for _ in cell.iter("p", "div", "br")) >= 3 and len(text_content(cell)) > _LAYOUT_CELL_TEXT:
            return False
    return True


def _walk(el: Any, out: list[str]) -> None:
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and tag not in ("script", "style", "noscript", "template"):
            if tag == "br":
                out.append(_BLOCK_SEP)
            elif tag == "tr" and _is_data_row(child):
                # Word-pasted tables wrap every cell in <p>/<div>: the row stays one block, cells joined by a space
                row: list[str] = []
                _walk(child, row)
                out.extend((_BLOCK_SEP, "".join(row).replace(_BLOCK_SEP, " "), _BLOCK_SEP))
            elif tag in _CELL_TAGS:
                out.append(" ")
                if child.text:
                    out.append(child.text)
                _walk(child, out)
                out.append(" ")
            else:
                sep = _BLOCK_SEP if tag in _BLOCK_TAGS else ""
                out.append(sep)
                if child.text:
                    out.append(child.text)
                _walk(child, out)
                out.append(sep)
        if child.tail:
            out.append(child.tail)


def body_text_from_tree(root: Any) -> str:
    """Render a parsed body as blocks joined by a blank line (see ``docs/architecture.md``)."""
    out: list[str] = [root.text] if root.text else []
    _walk(root, out)
    out = [s if s == _BLOCK_SEP else s.replace(_BLOCK_SEP, " ") for s in out]
    blocks = (_norm(b) for b in "".join(out).split(_BLOCK_SEP))
    return "\n\n".join(b for b in blocks if b)


def body_text_from_html(html: str) -> str:
    """Plain text of a (cleaned) body: blocks joined by ``"\\n\\n"``, whitespace collapsed inside blocks."""
    if not html or not html.strip():
        return ""
    return body_text_from_tree(_parse_fragment(html))


class BoilerplatePipeline:
    """Replace ``body_html`` by its cleaned form and set ``body_text``."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BoilerplatePipeline:
        """Build the pipeline (it has no settings)."""
        return cls()

    def process_item(self, item: Any) -> Any:
        """Clean one release item in place and return it (an empty body becomes null, never "")."""
        adapter = item_fields(item)
        raw = adapter.get("body_html")
        if raw is None or not raw.strip():
            adapter["body_html"], adapter["body_text"] = None, None
            return item
        root = clean_body_tree(raw)
        adapter["body_html"] = _inner_html(root) or None
        adapter["body_text"] = body_text_from_tree(root) or None
        return item
