"""How components find their settings' defaults and each other.

Defaults: ``crawler/settings.py`` is the one source of every project setting's default. A component built without
the project settings (a unit test's ``get_crawler``, scrapyd's runner before it loads them) falls back to that
module's value through these getters instead of a literal repeated at the call.

Siblings: ``crawler.get_extension(Cls)`` (Scrapy >= 2.12), with None where the extension manager does not exist yet
or the extension is switched off; never attributes patched onto the crawler.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self, TypeVar
from weakref import WeakKeyDictionary

from crawler import settings as project_settings

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

T = TypeVar("T")
_UNSET = object()


def default(name: str) -> Any:
    """The default of a project setting, from ``crawler/settings.py`` (KeyError for an unknown name)."""
    value = getattr(project_settings, name, _UNSET)
    if value is _UNSET:
        raise KeyError(f"{name} is not a setting of crawler/settings.py")
    return value


def get(settings: BaseSettings, name: str) -> Any:
    return settings.get(name, default(name))


def getbool(settings: BaseSettings, name: str) -> bool:
    return settings.getbool(name, default(name))


def getint(settings: BaseSettings, name: str) -> int:
    return settings.getint(name, default(name))


def getfloat(settings: BaseSettings, name: str) -> float:
    return settings.getfloat(name, default(name))


def getlist(settings: BaseSettings, name: str) -> list[Any]:
    return settings.getlist(name, default(name))


_RUN_IDS: WeakKeyDictionary[Any, str] = WeakKeyDictionary()


def new_run_id(now: datetime | None = None) -> str:
    """A fresh run id: the UTC start time and 6 random hex digits (``20250106T093000Z-3fa9c1``); sorts by time."""
    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_id(crawler: Crawler) -> str:
    """The id of this crawler's run: the ``RUN_ID`` setting (the ``crawler`` command sets it), else one made once."""
    given = str(get(crawler.settings, "RUN_ID") or "")
    if given:
        return given
    if crawler not in _RUN_IDS:
        _RUN_IDS[crawler] = new_run_id()
    return _RUN_IDS[crawler]


def portal_id(crawler: Crawler) -> str:
    """The portal this crawl archives: the spider's ``portal``, else the ``PORTAL_ID`` setting."""
    spider = getattr(crawler, "spider", None)
    return str(getattr(spider, "portal", None) or get(crawler.settings, "PORTAL_ID") or "")


def extension(crawler: Crawler, cls: type[T]) -> T | None:
    """The crawler's running extension of class *cls*, or None."""
    try:
        return crawler.get_extension(cls)
    except RuntimeError:  # the extension manager is not built yet (or never will be: a bare crawler)
        return None


def output_failed(crawler: Crawler, name: str, error: BaseException | str, close_reason: str) -> None:
    """An output file could not be written (a full disk, an I/O error): say so in the stats and stop the crawl.

    ``output/write_failed/<name>`` holds the error (the verdict reads it: the run is ``failed``); the spider is closed
    with *close_reason* (once; later calls only record).
    """
    import logging

    text = f"{error.__class__.__name__}: {error}" if isinstance(error, BaseException) else str(error)
    logging.getLogger(__name__).error("Could not write %s, stopping the crawl (%s): %s", name, close_reason, text)
    if crawler.stats is not None:
        crawler.stats.set_value(f"output/write_failed/{name}", text[:300])
    engine = getattr(crawler, "engine", None)
    if engine is None or engine.spider is None:
        return
    from scrapy.utils.defer import deferred_from_coro

    call = deferred_from_coro(engine.close_spider_async(reason=close_reason))
    call.addErrback(lambda failure: logging.getLogger(__name__).error("Closing the spider failed: %s",
                                                                      failure.getErrorMessage()))


class CrawlerComponent:
    """Base of the components that need nothing but their crawler (most middlewares here): ``from_crawler``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)
