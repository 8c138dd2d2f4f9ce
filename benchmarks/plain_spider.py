"""A plain Scrapy spider over a URL list, with Scrapy's default settings and no archiving: the engine's own cost.

Run as a script (never through the project's ``scrapy.cfg``, whose settings would apply):

    .venv/bin/python -m benchmarks.plain_spider URLS.txt

Deviations from Scrapy's defaults, printed on start: ``LOG_LEVEL=INFO`` (the default DEBUG writes a line per
request; the archival crawl logs at INFO too), and the telnet console and remote-control endpoint off (they cost
nothing per request and have no place on a benchmark host). It prints ``pages fetched: N``.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

OVERRIDES = {"LOG_LEVEL": "INFO", "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False}


class UrlListSpider(scrapy.Spider):
    """Fetch every URL of a list once; the callback keeps nothing."""

    name = "url_list"

    def __init__(self, urls_file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls_file = urls_file

    async def start(self) -> AsyncIterator[scrapy.Request]:
        with open(self.urls_file, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield scrapy.Request(line.strip(), callback=self.parse)

    def parse(self, response: Response) -> None:
        """Nothing to do: the benchmark measures fetching."""
        return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_file():
        print("usage: python -m benchmarks.plain_spider URLS.txt (an existing file, one URL a line)", file=sys.stderr)
        return 2
    print(f"plain Scrapy spider, default settings except {OVERRIDES}", flush=True)
    process = CrawlerProcess(OVERRIDES)
    crawler = process.create_crawler(UrlListSpider)
    process.crawl(crawler, urls_file=args[0])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    print(f"pages fetched: {stats.get('response_received_count', 0)}")
    return 0 if stats.get("finish_reason") == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(main())
