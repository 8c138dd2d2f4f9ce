"""Release date normalisation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pipelines import dates
from pipelines.dates import MERGED_SOURCE, ReleaseDatePipeline, normalize_release_date

CASES = [
    ("2016-08-15 11:16:50", "2016-08-15", "2016-08-15T11:16:50+08:00", "second"),
    ("2016-08-15 11:16", "2016-08-15", "2016-08-15T11:16:00+08:00", "minute"),
    ("2016-08-15", "2016-08-15", None, None),
    ("2016-8-5", "2016-08-05", None, None),
    ("2016/8/15", "2016-08-15", None, None),
    ("2010/1/6 16:43:13", "2010-01-06", "2010-01-06T16:43:13+08:00", "second"),
    ("2024/06/07 12:00", "2024-06-07", "2024-06-07T12:00:00+08:00", "minute"),
    ("2016.08.15", "2016-08-15", None, None),
    ("2016年8月15日", "2016-08-15", None, None),
    ("2016年08月15日", "2016-08-15", None, None),
    ("2021年9月15日 10:00", "2021-09-15", "2021-09-15T10:00:00+08:00", "minute"),
    ("2016年8月15日 11:16:50", "2016-08-15", "2016-08-15T11:16:50+08:00", "second"),
    ("2016年8月15日10时30分", "2016-08-15", "2016-08-15T10:30:00+08:00", "minute"),
    ("2016年8月15日 10时30分05秒", "2016-08-15", "2016-08-15T10:30:05+08:00", "second"),
    ("2016年08月15日 星期一", "2016-08-15", None, None),
    ("2015-07-13T10:44:17+08:00", "2015-07-13", "2015-07-13T10:44:17+08:00", "second"),
    ("2015-07-12T20:44:17Z", "2015-07-13", "2015-07-13T04:44:17+08:00", "second"),
    # an explicit offset is converted to +08:00, never relabelled (the date can change)
    ("2020-01-01T20:00:00Z", "2020-01-02", "2020-01-02T04:00:00+08:00", "second"),
    ("2020-01-01T20:00:00+00:00", "2020-01-02", "2020-01-02T04:00:00+08:00", "second"),
    ("2020-01-01 20:00:00 +0000", "2020-01-02", "2020-01-02T04:00:00+08:00", "second"),
    ("2020-01-01T20:00:00.000Z", "2020-01-02", "2020-01-02T04:00:00+08:00", "second"),
    ("2020-01-01T20:00Z", "2020-01-02", "2020-01-02T04:00:00+08:00", "minute"),
    ("2020-01-01 20:00:00 UTC", "2020-01-02", "2020-01-02T04:00:00+08:00", "second"),
    ("2020-01-02T06:30:00+09:00", "2020-01-02", "2020-01-02T05:30:00+08:00", "second"),
    ("2020-01-01T23:59:59-05:00", "2020-01-02", "2020-01-02T12:59:59+08:00", "second"),
    ("2020-01-01 20:00:00+0800", "2020-01-01", "2020-01-01T20:00:00+08:00", "second"),
    ("20160815", "2016-08-15", None, None),
    ("  2016-08-15 00:00:00 ", "2016-08-15", "2016-08-15T00:00:00+08:00", "second"),
    # dateparser fallback
    ("Aug 15, 2016", "2016-08-15", None, None),
    ("15 August 2016 11:16", "2016-08-15", "2016-08-15T11:16:00+08:00", "minute"),
    # impossible or unknown
    ("2016-02-30", None, None, None),
    ("2016-13-01", None, None, None),
    ("2015年2月29日", None, None, None),
    ("1800-01-01", None, None, None),
    ("2016-08-15 25:61", "2016-08-15", None, None),
    ("3天前", None, None, None),
    ("暂无", None, None, None),
    ("", None, None, None),
    (None, None, None, None),
]


@pytest.mark.parametrize(("raw", "date", "dt", "precision"), CASES)
def test_normalize_release_date(raw: str | None, date: str | None, dt: str | None, precision: str | None) -> None:
    assert normalize_release_date(raw) == (date, dt, precision)


def test_fast_path_never_calls_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(raw: str) -> None:
        raise AssertionError(f"dateparser called for {raw!r}")

    monkeypatch.setattr(dates, "_dateparser", boom)
    for raw in ("2016-08-15 11:16:50", "2016年8月15日", "2016/8/15", "2016.08.15", "2016年8月15日10时30分"):
        assert normalize_release_date(raw)[0] == "2016-08-15"


def test_every_datetime_is_rfc3339_with_seconds() -> None:
    for raw, _date, dt, precision in CASES:
        if dt is not None:
            assert datetime.fromisoformat(dt).utcoffset() == timedelta(hours=8), raw
            assert len(dt) == len("2016-08-15T11:16:50+08:00"), raw
            assert precision == "second" or dt.endswith(":00+08:00"), raw


def run(**item: str | None) -> dict[str, str | None]:
    ReleaseDatePipeline().process_item(item)
    return item


def test_pipeline_labelled_and_url_path() -> None:
    item = run(release_raw="2016-08-15 11:16:50", release_source="labelled_text")
    assert (item["release_date"], item["release_datetime"], item["release_time_precision"]) == (
        "2016-08-15", "2016-08-15T11:16:50+08:00", "second")
    item = run(release_raw="2018/3/2", release_source="url_path")
    assert (item["release_date"], item["release_datetime"], item["release_time_precision"]) == (
        "2018-03-02", None, None)
    item = run(release_raw=None, release_source=None)
    assert (item["release_date"], item["release_datetime"], item["release_time_precision"]) == (None, None, None)


def test_visible_date_takes_the_time_of_a_pubdate_meta_on_the_same_date() -> None:
    item = run(release_raw="2015年7月13日", release_source="labelled_text", pubdate_raw="2015-07-13 10:44:17")
    assert item["release_date"] == "2015-07-13"
    assert item["release_datetime"] == "2015-07-13T10:44:17+08:00"
    assert item["release_time_precision"] == "second"
    assert item["release_source"] == MERGED_SOURCE == "text_and_meta_time"
    assert item["release_raw"] == "2015-07-13 10:44:17"  # the row's date fields are what release_raw says
    item = run(release_raw="2015/7/13", release_source="bare_text", pubdate_raw="2015-07-13 10:44")
    assert (item["release_datetime"], item["release_time_precision"]) == ("2015-07-13T10:44:00+08:00", "minute")


def test_visible_date_wins_over_a_pubdate_meta_on_another_date() -> None:
    # a build-time PubDate (Kaipu/UCAP templates) must lose
    item = run(release_raw="2015-07-13", release_source="labelled_text", pubdate_raw="2026-01-22 19:08:41")
    assert (item["release_date"], item["release_datetime"], item["release_time_precision"]) == (
        "2015-07-13", None, None)
    assert (item["release_source"], item["release_raw"]) == ("labelled_text", "2015-07-13")


def test_visible_time_is_never_replaced_and_midnight_or_url_dates_take_no_meta_time() -> None:
    item = run(release_raw="2015-07-13 09:00", release_source="labelled_text", pubdate_raw="2015-07-13 10:44:17")
    assert (item["release_datetime"], item["release_time_precision"]) == ("2015-07-13T09:00:00+08:00", "minute")
    item = run(release_raw="2015-07-13", release_source="labelled_text", pubdate_raw="2015-07-13 00:00:00")
    assert item["release_datetime"] is None  # a CMS writes midnight for a date entered without a time
    item = run(release_raw="2015/7/13", release_source="url_path", pubdate_raw="2015-07-13 10:44:17")
    assert item["release_datetime"] is None


def test_offset_in_pubdate_meta_is_converted_before_the_dates_are_compared() -> None:
    # 2020-01-01T20:00:00Z is 2020-01-02 04:00 in Beijing: the same date as a visible 2020-01-02
    item = run(release_raw="2020-01-02", release_source="labelled_text", pubdate_raw="2020-01-01T20:00:00Z")
    assert (item["release_date"], item["release_datetime"]) == ("2020-01-02", "2020-01-02T04:00:00+08:00")
    item = run(release_raw="2020-01-01", release_source="labelled_text", pubdate_raw="2020-01-01T20:00:00Z")
    assert (item["release_date"], item["release_datetime"]) == ("2020-01-01", None)
    item = run(release_raw="2020-01-01T20:00:00+00:00", release_source="meta_pubdate")
    assert (item["release_date"], item["release_datetime"]) == ("2020-01-02", "2020-01-02T04:00:00+08:00")
