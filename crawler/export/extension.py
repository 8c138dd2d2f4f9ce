"""The dataset card at the end of every crawl (an extension; docs/loading.md).

At ``spider_closed``, after the run report (`crawler.report.extension.RunReportExtension`, 120: report.json gives
the card the run's verdict and start URLs) and before the recurring run record (150), ``datapackage.json`` and
``README.md`` are written beside ``releases.jsonl`` (`crawler.export.card`). A run that did not run (another run
holds the portal) writes nothing. A card that cannot be written is logged and counted (``dataset_card/failed``);
the rows, the WARC files and the verdict are not touched by it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import wiring
from crawler.export.card import CardOptions, write_card
from crawler.export.source import CrawlDir

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class DatasetCardExtension:
    """See the module docstring."""

    def __init__(self, crawler: Crawler, releases: Path, options: CardOptions) -> None:
        self.crawler = crawler
        self.releases = releases
        self.options = options

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not wiring.getbool(settings, "DATASET_CARD_ENABLED"):
            raise NotConfigured("the dataset card is off (DATASET_CARD_ENABLED)")
        options = CardOptions(terms=wiring.get(settings, "DATASET_TERMS") or "",
                              license=wiring.get(settings, "DATASET_LICENSE") or "")
        ext = cls(crawler, Path(wiring.get(settings, "JSONL_OUTPUT_PATH")), options)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self) -> None:
        stats = self.crawler.stats
        if stats is None or stats.get_value("run/outcome") == "not_run" or not self.releases.is_file():
            return  # not run (the portal's directory belongs to another run), or no rows file at all
        started = time.monotonic()
        try:
            write_card(CrawlDir(self.releases.parent, self.releases.name), self.options)
        except (OSError, ValueError) as exc:  # a full disk; a report.json being replaced
            logger.error("Could not write the dataset card beside %s: %s", self.releases, exc)
            stats.set_value("dataset_card/failed", f"{exc.__class__.__name__}: {exc}"[:300])
        else:
            stats.set_value("dataset_card/seconds", round(time.monotonic() - started, 3))
