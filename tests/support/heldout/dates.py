"""How a release date is written on a page, and the exact truth that each writing gives.

A page can show the date and time with ``-``, ``/``, ``.`` or 年月日, padded or not, with seconds, minutes or no time;
the ``PubDate`` meta may repeat it, add the time the visible line lacks, hold the page's build time, or carry an
explicit UTC offset. :func:`truth_of` says what ``release_date`` / ``release_datetime`` a reader must get.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

#: date forms a visible line may use
FORMS = ("iso", "slash", "slash-pad", "dot", "cn", "cn-pad")
#: what the visible line gives
VISIBLE = ("second", "minute", "date", "none")
#: what the PubDate meta holds
PUBDATE = ("absent", "same", "with-time", "build-time", "date-only", "offset-z", "offset-utc")


@dataclass(frozen=True)
class DateTruth:
    """The fields a correct extractor gives for one release's date."""

    date: str
    datetime: str | None
    precision: str | None  # "second", "minute" or None (no time of day known)


def _date_part(moment: datetime, form: str) -> str:
    y, m, d = moment.year, moment.month, moment.day
    return {
        "iso": f"{y:04d}-{m:02d}-{d:02d}",
        "slash": f"{y}/{m}/{d}",
        "slash-pad": f"{y}/{m:02d}/{d:02d}",
        "dot": f"{y}.{m:02d}.{d:02d}",
        "cn": f"{y}年{m}月{d}日",
        "cn-pad": f"{y}年{m:02d}月{d:02d}日",
    }[form]


def visible_text(moment: datetime, form: str, precision: str) -> str:
    """The date as a template prints it (``precision`` is one of :data:`VISIBLE` but "none")."""
    date = _date_part(moment, form)
    hour = f"{moment.hour}" if form == "slash" else f"{moment.hour:02d}"
    if precision == "second":
        return f"{date} {hour}:{moment.minute:02d}:{moment.second:02d}"
    if precision == "minute":
        return f"{date} {hour}:{moment.minute:02d}"
    return date


def iso_text(moment: datetime, precision: str | None) -> str | None:
    """RFC 3339-ish text with +08:00 at exactly ``precision`` (the schema v1 convention), or None."""
    if precision == "second":
        return moment.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    if precision == "minute":
        return moment.strftime("%Y-%m-%dT%H:%M+08:00")
    return None


def pubdate_text(moment: datetime, mode: str, precision: str, build_time: datetime) -> str | None:
    """The ``PubDate`` meta content for ``mode`` (None: no meta)."""
    if mode == "absent":
        return None
    if mode == "same":
        return visible_text(moment, "iso", precision)
    if mode == "with-time":
        return visible_text(moment, "iso", precision)
    if mode == "date-only":
        return visible_text(moment, "iso", "date")
    if mode == "build-time":
        return build_time.strftime("%Y-%m-%d %H:%M:%S")
    utc = moment - timedelta(hours=8)
    stamp = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return stamp + ("Z" if mode == "offset-z" else "+00:00")


def truth_of(moment: datetime, visible: str, pubdate: str, meta_precision: str) -> DateTruth:
    """The release date and time a reader must get.

    ``visible`` is what the visible line gives, ``pubdate`` the meta mode, ``meta_precision`` the precision of the
    time the meta carries (for "with-time" and the offset forms). The visible line wins over a differing meta; a
    meta time on the same date fills the time the visible line lacks; an explicit offset is converted to +08:00.
    """
    date = moment.strftime("%Y-%m-%d")
    if visible in ("second", "minute"):
        return DateTruth(date, iso_text(moment, visible), visible)
    if visible == "date":
        if pubdate == "with-time":
            return DateTruth(date, iso_text(moment, meta_precision), meta_precision)
        return DateTruth(date, None, None)
    # nothing visible: the meta decides, else the URL path (date only)
    if pubdate in ("offset-z", "offset-utc"):
        return DateTruth(date, iso_text(moment, "second"), "second")
    if pubdate in ("with-time", "same"):
        return DateTruth(date, iso_text(moment, meta_precision), meta_precision)
    return DateTruth(date, None, None)
