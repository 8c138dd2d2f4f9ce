"""How components find their settings' defaults and each other.

Defaults: ``crawler/settings.py`` is the one source of every project setting's default. A component built without
the project settings (a unit test's ``get_crawler``, scrapyd's runner before it loads them) falls back to that
module's value through these getters instead of a literal repeated at the call.

Siblings: ``crawler.get_extension(Cls)`` (Scrapy >= 2.12), with None where the extension manager does not exist yet
or the extension is switched off; never attributes patched onto the crawler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

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


def extension(crawler: Crawler, cls: type[T]) -> T | None:
    """The crawler's running extension of class *cls*, or None."""
    try:
        return crawler.get_extension(cls)
    except RuntimeError:  # the extension manager is not built yet (or never will be: a bare crawler)
        return None


class CrawlerComponent:
    """Base of the components that need nothing but their crawler (most middlewares here): ``from_crawler``."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)
