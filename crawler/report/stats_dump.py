"""Scrapy's stats collector, with the end-of-crawl dump written as JSON (not a Python repr) in ``crawl.log``.

The dump follows the line ``Dumping Scrapy stats (JSON):`` (`crawler.report.outputs.STATS_MARK`): one JSON object,
keys sorted, times as ISO 8601 strings. ``crawler report OUT`` reads the last one back to rebuild a report.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from scrapy.statscollectors import MemoryStatsCollector

from crawler.report.outputs import STATS_MARK

logger = logging.getLogger("scrapy.statscollectors")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def stats_json(stats: dict[str, Any]) -> str:
    """The stats as the dump writes them."""
    return json.dumps(stats, default=_plain, sort_keys=True, ensure_ascii=False, indent=1)


class JsonStatsCollector(MemoryStatsCollector):
    """`MemoryStatsCollector` whose dump is JSON (STATS_CLASS).

    Attribute lookup is Python's own: Scrapy 2.19's ``StatsCollector.__getattribute__`` wraps every stats method
    in a check that warns when a ``spider`` argument is passed, which costs a Python call and an f-string on every
    attribute access (a dozen ``inc_value`` calls a request: about 1.5% of a crawl's CPU). The methods still take
    the argument; only the deprecation warning is not given.
    """

    __getattribute__ = object.__getattribute__

    def close_spider(self, spider: Any = None, reason: str | None = None) -> None:
        if self._dump:
            logger.info("%s\n%s", STATS_MARK, stats_json(self._stats), extra={"spider": self._crawler.spider})
        self._persist_stats(self._stats)
