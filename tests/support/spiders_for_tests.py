"""A spider for fault tests: fetch a list of URLs; each response of a release-like URL becomes a release item."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler.items import ReleaseItem
from spiders.hanweb import build_release_item
from spiders.hanweb_lists import article_ids


class UrlListSpider(scrapy.Spider):
    """``-a urls='["http://127.0.0.1:P/art/...", {"url": ..., "method": "POST", "body": ...}]'``: one request per
    entry, in order, no link following."""

    name = "fault_urls"

    def __init__(self, urls: str = "[]", portal: str = "test", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls: list[str | dict[str, Any]] = json.loads(urls)
        self.portal = portal

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for entry in self.urls:
            if isinstance(entry, dict):  # {"url", "method", "body", "headers"}: a form POST, say
                yield scrapy.Request(entry["url"], method=entry.get("method", "GET"), body=entry.get("body", ""),
                                     headers=entry.get("headers"), callback=self.parse, dont_filter=True,
                                     meta=_release_meta(entry["url"]))
            else:
                yield scrapy.Request(entry, callback=self.parse, dont_filter=True, meta=_release_meta(entry))

    def parse(self, response: Response) -> Iterator[ReleaseItem]:
        """A release item from a 2xx page at a release-like URL (the real pipelines make its row)."""
        if article_ids(response.url) is not None:
            yield build_release_item(response, self.portal, {})


def _release_meta(url: str) -> dict[str, Any]:
    """Release-like URLs are release requests (``meta["release"]``): the accounting follows them as the spider's."""
    return {"release": True, "via": None} if article_ids(url) is not None else {}
