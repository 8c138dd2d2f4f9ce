"""Release date normalisation: raw date text -> (``YYYY-MM-DD``, ISO 8601 ``+08:00`` datetime or None).

The datetime keeps exactly the precision the page gives: ``2016-08-15T11:16:50+08:00`` with seconds,
``2016-08-15T11:16+08:00`` with hours and minutes, None for a date alone. The common forms go through a
regex fast path; dateparser (``languages=['zh', 'en']``, memoised) only sees what the fast path does not know.
Impossible dates (2016-02-30, month 13) give ``(None, None)``; a valid date with an impossible time gives
``(date, None)``. An explicit UTC offset in the raw text is converted to Asia/Shanghai wall time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

CST = timezone(timedelta(hours=8), "Asia/Shanghai")
MIN_YEAR, MAX_YEAR = 1949, 2100

_FAST_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20|21)\d{2})\s*"
    r"(?:(?P<sep>[-/.])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*(?P<d>\d{1,2})(?!\d)"
    r"|年\s*(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*日?"
    r"|(?P<m3>[01]\d)(?P<d3>[0-3]\d)(?!\d))"
    r"(?:\s*T?\s*(?:"
    r"(?P<H>\d{1,2})\s*[:：]\s*(?P<M>\d{2})(?:\s*[:：]\s*(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"|(?P<H2>\d{1,2})\s*[时点]\s*(?P<M2>\d{1,2})\s*分(?:\s*(?P<S2>\d{1,2})\s*秒)?"
    r")(?:\s*(?P<tz>Z|[+-]\d{2}:?\d{2})(?!\d))?)?"
)
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20|21)\d{2}(?!\d)")
_TIME_RE = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}|\d\s*[时点]\s*\d{1,2}\s*分")
_SECONDS_RE = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}\s*[:：]\s*\d{2}|\d\s*秒")
_DATEPARSER_SETTINGS = {
    "TIMEZONE": "Asia/Shanghai",
    "TO_TIMEZONE": "Asia/Shanghai",
    "RETURN_AS_TIMEZONE_AWARE": False,
    "PREFER_DATES_FROM": "past",
    "STRICT_PARSING": True,
    "DATE_ORDER": "YMD",
}

DateTuple = tuple[str | None, str | None]


def _format(dt: datetime, precision: str | None) -> DateTuple:
    date = dt.strftime("%Y-%m-%d")
    if precision == "seconds":
        return date, dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    if precision == "minutes":
        return date, dt.strftime("%Y-%m-%dT%H:%M+08:00")
    return date, None


def _tz_offset(tz: str) -> timezone:
    if tz == "Z":
        return UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _fast(m: re.Match[str]) -> DateTuple:
    year = int(m.group("y"))
    month = int(m.group("m") or m.group("m2") or m.group("m3"))
    day = int(m.group("d") or m.group("d2") or m.group("d3"))
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None, None
    try:
        day_dt = datetime(year, month, day)
    except ValueError:
        return None, None
    hour = m.group("H") or m.group("H2")
    minute = m.group("M") or m.group("M2")
    second = m.group("S") or m.group("S2")
    if hour is None:
        return _format(day_dt, None)
    try:
        dt = day_dt.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
    except ValueError:
        return _format(day_dt, None)
    if m.group("tz"):
        dt = dt.replace(tzinfo=_tz_offset(m.group("tz"))).astimezone(CST).replace(tzinfo=None)
    return _format(dt, "seconds" if second is not None else "minutes")


@lru_cache(maxsize=4096)
def _dateparser(raw: str) -> DateTuple:
    data = _parser().get_date_data(raw)
    dt = data.date_obj
    if dt is None or not MIN_YEAR <= dt.year <= MAX_YEAR:
        return None, None
    if data.period == "time" or _TIME_RE.search(raw):
        return _format(dt, "seconds" if _SECONDS_RE.search(raw) else "minutes")
    return _format(dt, None)


@lru_cache(maxsize=1)
def _parser() -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["zh", "en"], settings=_DATEPARSER_SETTINGS)


def normalize_release_date(raw: str | None) -> DateTuple:
    """Normalise raw release date text to ``(YYYY-MM-DD, ISO datetime with +08:00 or None)``."""
    if raw is None:
        return None, None
    text = raw.strip()
    if not text or not any(ch.isdigit() for ch in text) or len(text) > 120:
        return None, None
    m = _FAST_RE.search(text)
    if m is not None:
        return _fast(m)
    if not _YEAR_RE.search(text):
        return None, None  # relative or year-less text ("3天前", "Jul. 21") would depend on today
    return _dateparser(text)


class ReleaseDatePipeline:
    """Set ``release_date`` / ``release_datetime`` from ``release_raw`` (date only for a URL-path date)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReleaseDatePipeline:
        """Build the pipeline (it has no settings)."""
        return cls()

    def process_item(self, item: Any) -> Any:
        """Normalise one item's release date in place and return it."""
        adapter = ItemAdapter(item)
        date, dt = normalize_release_date(adapter.get("release_raw"))
        if adapter.get("release_source") == "url_path":
            dt = None
        adapter["release_date"], adapter["release_datetime"] = date, dt
        return item
