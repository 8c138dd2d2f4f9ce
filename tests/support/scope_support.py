"""Crawl-side helpers for the security and scope tests: a rebinding DNS resolver and a credentialed spider.

Loaded inside crawl subprocesses (the repository is on their PYTHONPATH): ``TWISTED_DNS_RESOLVER =
"tests.support.scope_support.RebindingResolver"`` and ``spider="tests.support.scope_support.CredentialSpider"``
in ``run_fault_crawl``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any

import scrapy
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import IAddress, IHostResolution, IResolutionReceiver

from crawler.fetch.ip_policy import IpPolicyResolver, _Resolution

#: Names under this suffix are answered by the fake DNS below, never by the system resolver.
FAKE_SUFFIX = ".test.gov.cn"


class RebindingResolver(IpPolicyResolver):
    """A DNS server that alternates its answer for every fake name: 127.0.0.1, then 127.0.0.3, then 127.0.0.1...

    The real IP policy and pin table sit in front of it (only ``upstream_resolve`` is replaced). Each answer is
    appended to the file named by ``$REBIND_LOG`` so the test can see what the "DNS server" said.
    """

    answers = ("127.0.0.1", "127.0.0.3")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0

    def upstream_resolve(self, receiver: IResolutionReceiver, host: str, port: int,
                         address_types: Sequence[type[IAddress]] | None, semantics: str) -> IHostResolution:
        if not host.endswith(FAKE_SUFFIX):
            return super().upstream_resolve(receiver, host, port, address_types, semantics)
        answer = self.answers[self.calls % len(self.answers)]
        self.calls += 1
        log = os.environ.get("REBIND_LOG")
        if log:
            with open(log, "a", encoding="ascii") as handle:
                handle.write(f"{host} {answer}\n")
        resolution = _Resolution(host)
        receiver.resolutionBegan(resolution)
        receiver.addressResolved(IPv4Address("TCP", answer, port))
        receiver.resolutionComplete()
        return resolution


class CredentialSpider(scrapy.Spider):
    """Fetch each URL with an ``Authorization`` header; a URL's ``cookie=1`` query first sets a cookie."""

    name = "credential_urls"

    def __init__(self, urls: str = "[]", portal: str = "test", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls: list[str] = json.loads(urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, headers={"Authorization": "Basic c2VjcmV0OnNlY3JldA=="}, dont_filter=True,
                                 callback=self.parse)

    def parse(self, response: scrapy.http.Response) -> None:
        return None
