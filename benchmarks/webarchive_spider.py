"""The peer fetcher (e): a plain Scrapy spider over a URL list with scrapy-webarchive's WACZ exporter.

scrapy-webarchive 0.5.3 pins ``Scrapy<2.12`` and ``warcio==1.7.4``, so it runs in a virtualenv of its own
(``.swa-venv``, made by ``make bench``, like pywb's ``.pywb-venv``), never importing the project:

    .swa-venv/bin/python benchmarks/webarchive_spider.py URLS.txt OUT_DIR

It writes every response and request as WARC records (the ``response_downloaded`` signal) and a WACZ at the end,
in ``OUT_DIR``, with Scrapy's default settings otherwise (``LOG_LEVEL=INFO``, no telnet console, as
``benchmarks/plain_spider.py``). It prints ``pages fetched: N``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response


class WebarchiveSpider(scrapy.Spider):
    """Fetch every URL of a list once; scrapy-webarchive archives the exchanges."""

    name = "webarchive_url_list"

    def __init__(self, urls_file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls_file = urls_file

    def start_requests(self) -> Iterator[scrapy.Request]:
        """The URLs of the list (Scrapy 2.11 has no async ``start``)."""
        with open(self.urls_file, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield scrapy.Request(line.strip(), callback=self.parse)

    def parse(self, response: Response) -> None:
        """Nothing to do: the extension archives the response."""
        return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not Path(args[0]).is_file():
        print("usage: webarchive_spider.py URLS.txt OUT_DIR", file=sys.stderr)
        return 2
    out = Path(args[1]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    settings = {"LOG_LEVEL": "INFO", "TELNETCONSOLE_ENABLED": False,
                "EXTENSIONS": {"scrapy_webarchive.extensions.WaczExporter": 543},
                "SW_EXPORT_URI": f"{out}/", "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7"}
    print(f"scrapy-webarchive spider, Scrapy {scrapy.__version__}, settings {settings}", flush=True)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(WebarchiveSpider)
    process.crawl(crawler, urls_file=args[0])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats is not None else {}
    print(f"pages fetched: {stats.get('response_received_count', 0)}")
    print(f"WARC responses written: {stats.get('webarchive/exporter/response_written', 0)}")
    return 0 if stats.get("finish_reason") == "finished" else 1


if __name__ == "__main__":
    raise SystemExit(main())
