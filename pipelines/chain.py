"""Run the configured item pipelines without a Scrapy engine (``crawler.offline``: replay and ``crawler extract``).

The stages and their order come from the same ``ITEM_PIPELINES`` setting as the live crawl, minus the export
stage (``archives.components``), so an improvement to a pipeline improves replay too.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings

#: Pipelines that write outputs rather than transform the item; the offline chain leaves them out.
EXPORT_STAGES = ("archives.components.",)


def pipeline_paths(settings: Settings | None = None) -> list[str]:
    """The transforming pipelines of ``ITEM_PIPELINES``, in priority order."""
    settings = settings or get_project_settings()
    configured = settings.getwithbase("ITEM_PIPELINES")
    ordered = sorted(((priority, path) for path, priority in configured.items() if priority is not None),
                     key=lambda pair: pair[0])
    return [path for _, path in ordered if not str(path).startswith(EXPORT_STAGES)]


def build_pipelines(paths: Iterable[str] | None = None) -> list[Any]:
    """Instantiate the transforming pipelines (each must be constructible without a crawler)."""
    return [load_object(path)() for path in (paths if paths is not None else pipeline_paths())]


@lru_cache(maxsize=1)
def default_pipelines() -> tuple[Any, ...]:
    """The configured pipelines, built once per process: reading the project settings costs more than a page."""
    return tuple(build_pipelines())


def run_pipelines(item: Any, pipelines: Iterable[Any]) -> Any | None:
    """Pass ``item`` through every stage; None when a stage drops it."""
    for stage in pipelines:
        try:
            item = stage.process_item(item)
        except DropItem:
            return None
    return item
