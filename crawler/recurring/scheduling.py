"""When a portal is due: schedules are an interval (``30m``, ``6h``, ``1d``, ``2w``) or a cron expression.

Cron expressions (five fields, evaluated in UTC) are parsed by croniter; intervals by this module. A portal
that never ran is due at once. Otherwise it is due at ``last start + interval``, or at the first cron time
after its last start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

from crawler.errors import CrawlerError

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
SCHEDULE_EXPECTED = "an interval such as 30m, 6h, 1d or 2w, or a five-field cron expression such as '0 3 * * *'"


class ScheduleError(CrawlerError, ValueError):
    """A schedule text that is neither an interval nor a valid cron expression."""


def parse_duration(text: str) -> timedelta:
    """``30m``/``6h``/``1d``/``2w`` -> timedelta (strictly positive); ScheduleError otherwise."""
    match = _INTERVAL.match(str(text))
    if not match or int(match.group(1)) <= 0:
        raise ScheduleError(f"expected a positive duration such as 6h or 30d, got {text!r}")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: exactly one of ``interval`` and ``cron`` is set."""

    text: str
    interval: timedelta | None = None
    cron: str | None = None

    def next_due(self, last_start: datetime | None, now: datetime | None = None) -> datetime:
        """When the next run is due (``now`` for a portal that never ran)."""
        now = now or datetime.now(UTC)
        if last_start is None:
            return now
        if self.interval is not None:
            return last_start + self.interval
        assert self.cron is not None
        return croniter(self.cron, last_start).get_next(datetime)

    def is_due(self, last_start: datetime | None, now: datetime | None = None) -> bool:
        """True when a run should start now."""
        now = now or datetime.now(UTC)
        return self.next_due(last_start, now) <= now


def parse_schedule(text: str) -> Schedule:
    """Parse an interval or a five-field cron expression; ScheduleError names what is expected."""
    if not isinstance(text, str) or not text.strip():
        raise ScheduleError(f"expected {SCHEDULE_EXPECTED}, got {text!r}")
    if _INTERVAL.match(text):
        return Schedule(text, interval=parse_duration(text))
    fields = text.split()
    if len(fields) == 5 and croniter.is_valid(text):
        return Schedule(text, cron=" ".join(fields))
    raise ScheduleError(f"expected {SCHEDULE_EXPECTED}, got {text!r}")
