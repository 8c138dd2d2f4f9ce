"""The extraction's fast paths (issue 15) answer exactly as the slower forms they replace.

Each shortcut is checked against the plain form it stands for, on inputs built to reach its corner cases: the
characters a case-insensitive regex folds that ``str.lower`` does not, every whitespace character, character
references that hide a word from the source, and items that are not dataclasses.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass

import pytest

from pipelines import boilerplate
from pipelines.dates import ReleaseDatePipeline
from pipelines.hits import HitsPipeline
from pipelines.item_fields import item_fields
from spiders import release_page
from spiders.vocabulary import COUNTER_SCRIPT_RE, LABELS, has_counter_script

#: what ``str.lower`` and ``re.IGNORECASE`` treat differently, and what they fold alike
_TRICKY = ["\u0130", "\u0131", "\u017f", "\u212a", "ß", "中文", " ", "/", "<script>", "ARTICLE", "Hits"]


def _texts(words: list[str], seed: int, count: int = 4000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(words) for _ in range(rng.randint(0, 10))) for _ in range(count)]


def test_counter_script_check_is_the_regex() -> None:
    words = ["articlehits", "ArtCount", "GETHITS", "visitcount/hits", "visitcount/hit", "art中count", "geth\u0131ts",
             "artcoun\u017f", "g\u0130thits", "get", "hits", *_TRICKY]
    texts = _texts(words, 1)
    assert sum(1 for t in texts if COUNTER_SCRIPT_RE.search(t)) > 500  # both answers are exercised
    for text in texts:
        assert has_counter_script(text) == (COUNTER_SCRIPT_RE.search(text) is not None), text


def test_whitespace_collapse_is_the_regex() -> None:
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert re.fullmatch(r"\s+", "".join(spaces))  # `\s` and str.isspace agree on every character
    words = ["a", "中", "\x00", "\x1e", "\u200b", *spaces]
    for text in _texts(words, 2):
        expected = re.sub(r"\s+", " ", text).strip()
        assert release_page.collapse_ws(text) == expected
        assert boilerplate._norm(text) == expected


def test_language_is_the_counting_rule() -> None:
    cjk, latin = re.compile(r"[\u3400-\u9fff]+"), re.compile(r"[A-Za-z]+")

    def counted(sample: str) -> str | None:
        c, n = sum(map(len, cjk.findall(sample))), sum(map(len, latin.findall(sample)))
        return None if not c and not n else ("en" if c * 10 < n else "zh")

    words = ["中", "文字", "abcdefghij", "Z", " ", "ä", "\u0130", "1", "\u3400", "\u9fff", "\ua000", "ｆ"]
    texts = _texts(words, 3, 8000)
    assert {counted(t) for t in texts} == {None, "en", "zh"}
    for text in texts:
        assert release_page._language(text) == counted(text), text


def test_related_heading_search_is_the_case_insensitive_one() -> None:
    heading = re.compile(boilerplate._RELATED_HEADINGS.format(ws=r"\s+"), re.IGNORECASE)
    words = ["相关", "链接", "相关链接", "猜你喜欢", "Related", "RELATED", "rElAtEd ", "links", "L\u0130NKS",
             "l\u0131nks", "Art\u0131cles", "News", "NEW\u017f", "\n", " ", "相", "热门文章"]
    for text in _texts(words, 4):
        found, expected = boilerplate._RELATED_HEADING_RE.search(text), heading.search(text)
        assert (found and found.span()) == (expected and expected.span()), text


@pytest.mark.parametrize("heading", ["相关链接", "&#30456;&#20851;&#38142;&#25509;", "相<b>关</b>链接",
                                     "Related\n Links"])
def test_related_list_is_dropped_however_its_heading_is_written(heading: str) -> None:
    body = (f"<p>区政府召开会议。</p><div>{heading}</div><ul><li><a href='/a.html'>关于开展安全生产检查的通知</a></li>"
            "<li><a href='/b.html'>关于做好防汛工作的通知</a></li></ul>")
    cleaned = boilerplate.clean_body_html(body)
    assert "区政府召开会议" in cleaned
    assert "安全生产" not in cleaned and "防汛" not in cleaned


@dataclass
class _Release:
    release_raw: str | None = "2019-03-04 10:00"
    release_source: str | None = "labelled_text"
    pubdate_raw: str | None = None
    release_date: str | None = None
    release_datetime: str | None = None
    release_time_precision: str | None = None
    hits_raw: str | None = "12"
    hits_scripted: bool = False
    hits: int | None = None


def test_pipelines_treat_a_dataclass_and_a_dict_alike() -> None:
    as_class = _Release()
    as_dict = dict(vars(_Release()))
    for stage in (ReleaseDatePipeline(), HitsPipeline()):
        stage.process_item(as_class)
        stage.process_item(as_dict)
    assert vars(as_class) == as_dict
    assert as_dict["hits"] == 12 and as_dict["release_date"] == "2019-03-04"
    assert item_fields(as_class) is vars(as_class)  # the fast path was taken for the dataclass


def test_every_label_of_a_witnessed_field_holds_a_witness() -> None:
    for field, witnesses in release_page.LABEL_WITNESSES.items():
        labels = [label for label, (name, _) in LABELS.items() if name == field]
        assert labels, field
        for label in labels:
            assert any(ch in label for ch in witnesses), (field, label)


@pytest.mark.parametrize(("inside", "field", "value"), [
    ("<p>索 引 号：11330108/2019-00012</p>", "index_no", "11330108/2019-00012"),
    ("<p>发文字号：滨政办〔2019〕3号</p>", "doc_no", "滨政办〔2019〕3号"),
    ("<p>发布机构：区政府办公室</p>", "source", "区政府办公室"),
    ("<p>Source: District Office</p>", "source", "District Office"),
    ("<p>稿<span>源</span>：区融媒体中心</p>", "source", "区融媒体中心"),
])
def test_labels_inside_the_body_are_still_read(inside: str, field: str, value: str) -> None:
    page = ("<html><head><meta name='ArticleTitle' content='区政府召开常务会议'></head><body>"
            "<div class='info'>发布日期：2019-03-04 浏览次数：12</div><div id='zoom'>"
            f"<!--ZJEG_RSS.content.begin--><p>正文内容。</p>{inside}<!--ZJEG_RSS.content.end--></div></body></html>")
    raw = release_page.parse_release_page(page, "http://portal.example/art/2019/3/4/art_1_2.html")
    assert raw[field] == value
