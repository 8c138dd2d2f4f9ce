"""`crawler extract` on saved pages: the record always prints; a record that cannot validate is named on stderr."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.common import BIN, run_cli

PAGES = Path(__file__).parent / "data" / "pages"


def test_a_page_whose_url_has_no_article_id_still_prints_its_record_with_a_warning() -> None:
    proc = run_cli("extract", str(PAGES / "seed_en_binjiang.html"), "--url", "http://www.example.gov.cn/news/a.html",
                   "--compact")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["title"].startswith("CPPCC Chairman Meeting of Binjiang District")
    assert record["release_id"] is None
    assert "does not validate at /release_id" in proc.stderr


def test_a_hanweb_page_validates_silently() -> None:
    proc = run_cli("extract", str(PAGES / "seed_en_binjiang.html"), "--url",
                   "http://www.example.gov.cn/art/2016/8/15/art_1229_1.html", "--compact")
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)["release_id"] == "demo:1229_1"


def test_a_missing_page_is_a_clear_error() -> None:
    proc = run_cli("extract", "/nonexistent/page.html", "--url", "http://x.gov.cn/art/2016/8/15/art_1_1.html")
    assert proc.returncode == 2
    assert "/nonexistent/page.html" in proc.stderr and "Traceback" not in proc.stderr


#: The documented values (docs/schema.md) of the fixtures written for schema 2.0's cases, from HANWEB.md's real
#: forms: (title, release_date, release_datetime, precision, release_source, hits, hits_raw, source).
SCHEMA2_FIXTURES = {
    # a bare date and time in a span next to the title beats a build-time PubDate; the header's date widget, the
    # body's signature date, the related list's dates and the footer's date are not the release date
    "zh_bare_span_date.html": ("区生态环境分局开展春季大气污染防治专项检查", "2022-04-17",
                               "2022-04-17T10:30:00+08:00", "minute", "bare_text", None, "", "区生态环境分局"),
    # a date-only visible line keeps the time of the PubDate meta on the same date; 12,345 is twelve thousand
    "zh_pubdate_time.html": ("关于做好2015年防汛防台工作的通知", "2015-07-13", "2015-07-13T10:44:00+08:00",
                             "minute", "text_and_meta_time", 12345, "12,345", "区应急管理局"),
    # an empty, script-filled count followed on its line by the date: the count is empty, never the year
    "zh_empty_count_then_date.html": ("长河街道召开数字经济发展工作会议", "2019-03-04",
                                      "2019-03-04T12:00:00+08:00", "second", "bare_text", None, "", "长河街道"),
    # a UTC PubDate is converted, never relabelled (a different day in Beijing)
    "zh_offset_pubdate.html": ("区政府召开常务会议研究城市有机更新等事项", "2020-01-02",
                               "2020-01-02T04:00:00+08:00", "second", "meta_pubdate", None, None, None),
    # title markup (double-escaped entities in <title>, nested tags and <br> in the title block, the info line
    # inside it), a visible +00:00 time, a 1.2万次浏览 count
    "zh_title_markup.html": ("关于“最多跑一次”改革工作的通报", "2020-03-04", "2020-03-04T17:15:00+08:00", "second",
                             "labelled_text", 12000, "1.2万", None),
}
#: ../shared/corpus beside the repository (CI lays shared/ beside the clone; a worktree finds it further up)
CORPUS_DIR = next((folder / "shared" / "corpus" for folder in Path(__file__).resolve().parents[1:]
                   if (folder / "shared" / "corpus").is_dir()), Path("../shared/corpus"))
CORPUS = CORPUS_DIR / "hanweb_home_coscoshipping_2018.html"


def test_crawler_extract_gives_the_documented_values_of_the_schema_2_fixtures() -> None:
    fields = ("title", "release_date", "release_datetime", "release_time_precision", "release_source", "hits",
              "hits_raw", "source")
    for name, expected in SCHEMA2_FIXTURES.items():
        proc = run_cli("extract", str(PAGES / name), "--url",
                       "http://www.example.gov.cn/art/2019/3/4/art_1229005_2410020.html", "--compact")
        assert proc.returncode == 0 and proc.stderr == "", (name, proc.stderr)
        record = json.loads(proc.stdout)
        assert tuple(record[field] for field in fields) == expected, name
        assert record["schema_version"] == 2 and record["attachments"] == []
        assert record["body_text"] and "Produced By" not in record["body_text"]


def test_crawler_extract_of_the_real_corpus_home_page() -> None:
    """A real Hanweb home page (not a release): its <title> names only the site, so no title; no date, no count."""
    if not CORPUS.exists():
        pytest.skip(f"the shared corpus is not beside the repository ({CORPUS})")
    proc = run_cli("extract", str(CORPUS), "--url", "http://www.coscoshipping.com/", "--compact")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert (record["title"], record["release_date"], record["release_source"], record["hits"]) == (
        None, None, None, None)
    assert record["release_id"] is None and "does not validate at /release_id" in proc.stderr
    assert record["charset"] == {"header": None, "meta": "utf-8", "used": "utf-8"} and record["language"] == "zh"
    assert record["attachments"] == [] and record["body_text"].startswith("企业文化")


def test_the_record_is_the_same_from_any_working_directory(tmp_path: Path) -> None:
    """Scrapy finds a project's settings through the nearest scrapy.cfg: run elsewhere, the pipelines were skipped."""
    args = ("extract", str(PAGES / "seed_en_binjiang.html"), "--url",
            "http://www.example.gov.cn/art/2016/8/15/art_1229_1.html", "--compact")
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    here = run_cli(*args, env=env)
    elsewhere = subprocess.run([str(BIN / "crawler"), *args], capture_output=True, text=True, cwd=tmp_path, env=env,
                               timeout=120)
    assert elsewhere.returncode == 0, elsewhere.stderr
    record = json.loads(elsewhere.stdout)
    assert record["release_date"] == "2016-08-15" and record["body_text"]  # the pipelines ran
    assert record == json.loads(here.stdout)
