"""Release date normalisation."""

from __future__ import annotations

import pytest

from pipelines import dates
from pipelines.dates import ReleaseDatePipeline, normalize_release_date

CASES = [
    ("2016-08-15 11:16:50", "2016-08-15", "2016-08-15T11:16:50+08:00"),
    ("2016-08-15 11:16", "2016-08-15", "2016-08-15T11:16+08:00"),
    ("2016-08-15", "2016-08-15", None),
    ("2016-8-5", "2016-08-05", None),
    ("2016/8/15", "2016-08-15", None),
    ("2010/1/6 16:43:13", "2010-01-06", "2010-01-06T16:43:13+08:00"),
    ("2024/06/07 12:00", "2024-06-07", "2024-06-07T12:00+08:00"),
    ("2016.08.15", "2016-08-15", None),
    ("2016年8月15日", "2016-08-15", None),
    ("2016年08月15日", "2016-08-15", None),
    ("2021年9月15日 10:00", "2021-09-15", "2021-09-15T10:00+08:00"),
    ("2016年8月15日 11:16:50", "2016-08-15", "2016-08-15T11:16:50+08:00"),
    ("2016年8月15日10时30分", "2016-08-15", "2016-08-15T10:30+08:00"),
    ("2016年8月15日 10时30分05秒", "2016-08-15", "2016-08-15T10:30:05+08:00"),
    ("2016年08月15日 星期一", "2016-08-15", None),
    ("2015-07-13T10:44:17+08:00", "2015-07-13", "2015-07-13T10:44:17+08:00"),
    ("2015-07-12T20:44:17Z", "2015-07-13", "2015-07-13T04:44:17+08:00"),
    ("20160815", "2016-08-15", None),
    ("  2016-08-15 00:00:00 ", "2016-08-15", "2016-08-15T00:00:00+08:00"),
    # dateparser fallback
    ("Aug 15, 2016", "2016-08-15", None),
    ("15 August 2016 11:16", "2016-08-15", "2016-08-15T11:16+08:00"),
    # impossible or unknown
    ("2016-02-30", None, None),
    ("2016-13-01", None, None),
    ("2015年2月29日", None, None),
    ("1800-01-01", None, None),
    ("2016-08-15 25:61", "2016-08-15", None),
    ("3天前", None, None),
    ("暂无", None, None),
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("raw", "date", "dt"), CASES)
def test_normalize_release_date(raw: str | None, date: str | None, dt: str | None) -> None:
    assert normalize_release_date(raw) == (date, dt)


def test_fast_path_never_calls_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(raw: str) -> None:
        raise AssertionError(f"dateparser called for {raw!r}")

    monkeypatch.setattr(dates, "_dateparser", boom)
    for raw in ("2016-08-15 11:16:50", "2016年8月15日", "2016/8/15", "2016.08.15", "2016年8月15日10时30分"):
        assert normalize_release_date(raw)[0] == "2016-08-15"


def test_pipeline_labelled_and_url_path() -> None:
    item = {"release_raw": "2016-08-15 11:16:50", "release_source": "labelled_text"}
    ReleaseDatePipeline().process_item(item)
    assert (item["release_date"], item["release_datetime"]) == ("2016-08-15", "2016-08-15T11:16:50+08:00")
    item = {"release_raw": "2018/3/2", "release_source": "url_path"}
    ReleaseDatePipeline().process_item(item)
    assert (item["release_date"], item["release_datetime"]) == ("2018-03-02", None)
    item = {"release_raw": None, "release_source": None}
    ReleaseDatePipeline().process_item(item)
    assert (item["release_date"], item["release_datetime"]) == (None, None)
