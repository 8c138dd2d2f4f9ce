"""The settings of recurring crawls (RECURRING_*, STATE_*, PORTAL_LOCK_DIR), parsed once; the on/off gate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy.exceptions import NotConfigured

from crawler import meta, wiring
from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

#: Meta key of the re-requests made for releases that vanished from their lists.
CHECK_META_KEY = meta.RECURRING_CHECK
COVERAGE_FIELDS = ("title", "release_date", "body_text", "source")


@dataclass(frozen=True)
class RecurringConfig:
    """The RECURRING_*, STATE_* and PORTAL_* settings, parsed once."""

    state_path: Path
    events_path: Path
    jsonl_path: Path
    warc_dir: Path
    lock_dir: Path
    refresh_window_days: float
    refresh: bool
    flush_interval: float
    removal_checks: bool
    removal_check_max: int
    drop_threshold: float
    coverage_drop: float
    coverage_min_items: int
    expect_last_run: int
    recover_at_start: bool
    #: A queue run's lease token (SCALEOUT_FENCING_TOKEN; -1: no fence), crawler/recurring/fencing.py.
    fencing_token: int = -1

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RecurringConfig:
        jsonl = Path(wiring.get(settings, "JSONL_OUTPUT_PATH"))
        beside = jsonl.parent

        def path(name: str, default: Path) -> Path:
            value = wiring.get(settings, name) or ""
            return Path(value) if value else default

        window = wiring.getfloat(settings, "RECURRING_REFRESH_WINDOW_DAYS")
        threshold = wiring.getfloat(settings, "RECURRING_DROP_THRESHOLD")
        if window < 0 or not 0 < threshold < 1:
            raise ValueError(f"RECURRING_REFRESH_WINDOW_DAYS must be >= 0 (got {window}) and "
                             f"RECURRING_DROP_THRESHOLD in (0, 1) (got {threshold})")
        return cls(
            state_path=path("STATE_PATH", beside / "state.sqlite"),
            events_path=path("RECURRING_EVENTS_PATH", beside / "events.jsonl"),
            jsonl_path=jsonl,
            warc_dir=Path(wiring.get(settings, "WARC_OUTPUT_DIR")),
            lock_dir=path("PORTAL_LOCK_DIR", beside),
            refresh_window_days=window,
            refresh=wiring.getbool(settings, "RECURRING_REFRESH"),
            flush_interval=wiring.getfloat(settings, "RECURRING_FLUSH_INTERVAL"),
            removal_checks=wiring.getbool(settings, "RECURRING_REMOVAL_CHECKS"),
            removal_check_max=wiring.getint(settings, "RECURRING_REMOVAL_CHECK_MAX"),
            drop_threshold=threshold,
            coverage_drop=wiring.getfloat(settings, "RECURRING_COVERAGE_DROP"),
            coverage_min_items=wiring.getint(settings, "RECURRING_COVERAGE_MIN_ITEMS"),
            expect_last_run=wiring.getint(settings, "RECURRING_EXPECT_LAST_RUN"),
            recover_at_start=wiring.getbool(settings, "RECURRING_RECOVER_AT_START"),
            fencing_token=wiring.getint(settings, "SCALEOUT_FENCING_TOKEN"),
        )


def require_enabled(settings: BaseSettings) -> None:
    """The gate of every recurring component: NotConfigured unless RECURRING_ENABLED."""
    if not wiring.getbool(settings, "RECURRING_ENABLED"):
        raise NotConfigured("recurring crawls are off: set RECURRING_ENABLED to True to enable them")


class RecurringComponent(CrawlerComponent):
    """Base of the recurring middlewares and pipeline: built only when RECURRING_ENABLED."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        require_enabled(crawler.settings)
        return cls(crawler)
