"""Release date normalisation: raw date text -> (``YYYY-MM-DD``, RFC 3339 datetime, time precision).

``release_datetime`` is always RFC 3339 with seconds and the ``+08:00`` offset (``2016-08-15T11:16:00+08:00``);
``release_time_precision`` says what the page gave: ``second``, ``minute`` (the seconds are ``:00``), or None with
a None datetime for a date alone. Precision is never invented. An explicit offset in the text (``Z``, ``+00:00``,
``+0000``, ``UTC``) is converted to Asia/Shanghai wall time, never relabelled: ``2020-01-01T20:00:00Z`` is
``2020-01-02T04:00:00+08:00`` and its date ``2020-01-02``. The common forms go through a regex fast path;
dateparser (``languages=['zh', 'en']``, memoised) only sees what the fast path does not know. Impossible dates
(2016-02-30, month 13) give no date; a valid date with an impossible time gives the date alone.

`ReleaseDatePipeline` also settles the one case where two places of the page combine (docs/schema.md, "Dates"): a
visible date without a time of day and a ``PubDate`` meta on the same date with a time keep the meta's time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pipelines.item_fields import item_fields

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
    r")(?:\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})(?!\d))?)?"
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

#: (release_date, release_datetime, release_time_precision)
DateTuple = tuple[str | None, str | None, str | None]
_NOTHING: DateTuple = (None, None, None)
#: release_source values of a date read from the visible page (the meta's time may fill in, see the pipeline)
VISIBLE_SOURCES = frozenset(("labelled_text", "bare_text"))
#: release_source of a visible date whose time of day came from the PubDate meta on the same date
MERGED_SOURCE = "text_and_meta_time"


def _format(dt: datetime, precision: str | None) -> DateTuple:
    date = dt.strftime("%Y-%m-%d")
    if precision is None:
        return date, None, None
    return date, dt.strftime("%Y-%m-%dT%H:%M:%S+08:00"), precision


def _tz_offset(tz: str) -> timezone:
    if tz in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _fast(m: re.Match[str]) -> DateTuple:
    year = int(m.group("y"))
    month = int(m.group("m") or m.group("m2") or m.group("m3"))
    day = int(m.group("d") or m.group("d2") or m.group("d3"))
    if not MIN_YEAR <= year <= MAX_YEAR:
        return _NOTHING
    try:
        day_dt = datetime(year, month, day)
    except ValueError:
        return _NOTHING
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
    return _format(dt, "second" if second is not None else "minute")


@lru_cache(maxsize=4096)
def _dateparser(raw: str) -> DateTuple:
    data = _parser().get_date_data(raw)
    dt = data.date_obj
    if dt is None or not MIN_YEAR <= dt.year <= MAX_YEAR:
        return _NOTHING
    if data.period == "time" or _TIME_RE.search(raw):
        return _format(dt, "second" if _SECONDS_RE.search(raw) else "minute")
    return _format(dt, None)


@lru_cache(maxsize=1)
def _parser() -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["zh", "en"], settings=_DATEPARSER_SETTINGS)


def normalize_release_date(raw: str | None) -> DateTuple:
    """Normalise raw release date text to ``(YYYY-MM-DD, RFC 3339 datetime or None, precision or None)``."""
    if raw is None:
        return _NOTHING
    text = raw.strip()
    if not text or not any(ch.isdigit() for ch in text) or len(text) > 120:
        return _NOTHING
    m = _FAST_RE.search(text)
    if m is not None:
        return _fast(m)
    if not _YEAR_RE.search(text):
        return _NOTHING  # relative or year-less text ("3天前", "Jul. 21") would depend on today
    return _dateparser(text)


def meta_time_for(date: str | None, pubdate_raw: str | None) -> DateTuple | None:
    """The PubDate meta's reading when it gives a time of day on ``date`` (a visible date without a time).

    A meta time of exactly midnight is no time: CMSs write ``00:00:00`` for a date entered without one.
    """
    if date is None or not pubdate_raw:
        return None
    meta = normalize_release_date(pubdate_raw)
    if meta[0] != date or meta[1] is None or meta[1][11:19] == "00:00:00":
        return None
    return meta


class ReleaseDatePipeline:
    """Set ``release_date`` / ``release_datetime`` / ``release_time_precision`` from ``release_raw``.

    A URL-path date is a date alone. A visible date without a time takes the time of a ``PubDate`` meta on the same
    date (the item's ``pubdate_raw``): ``release_source`` becomes ``text_and_meta_time`` and ``release_raw`` the
    meta's text, so the row's date fields are always what ``release_raw`` says. The visible date wins when the
    two disagree (the extractor already chose it; some templates fill ``PubDate`` with the page's build time).
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReleaseDatePipeline:
        """Build the pipeline (it has no settings)."""
        return cls()

    def process_item(self, item: Any) -> Any:
        """Normalise one item's release date in place and return it."""
        adapter = item_fields(item)
        source = adapter.get("release_source")
        date, dt, precision = normalize_release_date(adapter.get("release_raw"))
        if source == "url_path":
            dt = precision = None
        elif dt is None and source in VISIBLE_SOURCES:
            pubdate_raw = adapter.get("pubdate_raw")
            meta = meta_time_for(date, pubdate_raw)
            if meta is not None and pubdate_raw is not None:
                date, dt, precision = meta
                adapter["release_source"], adapter["release_raw"] = MERGED_SOURCE, pubdate_raw.strip()
        adapter["release_date"], adapter["release_datetime"] = date, dt
        adapter["release_time_precision"] = precision
        return item
