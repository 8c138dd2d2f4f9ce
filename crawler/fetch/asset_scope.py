"""Where archive-only requests (attachments, page requisites) may go: the portal's hosts and PORTAL_ASSET_HOSTS.

Such requests carry ``meta["asset"]`` (``"attachment"`` or ``"requisite"``) and ``meta["allow_offsite"]``, so
Scrapy's ``OffsiteMiddleware`` lets them reach an asset host; this middleware then refuses any of them, every
redirect hop included, whose host is neither the portal's (the spider's ``allowed_domains``) nor an asset host.
Nothing is followed from their responses (the spider's callbacks for them extract no links), so an asset host is
one hop only. The robots.txt of an asset host is let through as well (it is obeyed there as anywhere). Other
requests are left to ``OffsiteMiddleware``: a release or list link to an asset host stays offsite. The IP policy
(``crawler.fetch.ip_policy``) applies to asset hosts like any other.

Setting: ``PORTAL_ASSET_HOSTS`` (exact host names, a list or a comma-separated string).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from crawler import meta, wiring

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Request meta key marking an archive-only request; its value says which kind.
ASSET_META = meta.ASSET
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")


def parse_asset_hosts(value: str | Iterable[str] | None, name: str = "PORTAL_ASSET_HOSTS") -> frozenset[str]:
    """Host names from a list or a comma-separated string; ValueError naming ``name`` for anything else."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    hosts = set()
    for raw in items:
        host = str(raw).strip().lower().rstrip(".")
        if not host:
            continue
        if not _HOST.match(host):
            raise ValueError(f"{name}: {raw!r} is not a host name (give names like oss.example.gov.cn, "
                             "without scheme, port or path)")
        hosts.add(host)
    return frozenset(hosts)


class AssetScope:
    """The hosts archive-only requests may reach."""

    def __init__(self, portal_domains: Iterable[str], asset_hosts: Iterable[str]) -> None:
        self.portal_domains = [d.lower().strip(".") for d in portal_domains if d]
        self.asset_hosts = frozenset(asset_hosts)

    def allows(self, url: str) -> bool:
        """True for http(s) URLs on a portal host (or its subdomains, as Scrapy's offsite rule) or an asset host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        host = parts.hostname
        if host in self.asset_hosts:
            return True
        return not self.portal_domains or any(host == d or host.endswith("." + d) for d in self.portal_domains)


class AssetScopeMiddleware:
    """Downloader middleware: drop archive-only requests to hosts outside the portal and its asset hosts."""

    def __init__(self, crawler: Crawler, asset_hosts: frozenset[str]) -> None:
        self.crawler = crawler
        self.asset_hosts = asset_hosts

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, parse_asset_hosts(wiring.get(crawler.settings, "PORTAL_ASSET_HOSTS")))

    def scope(self) -> AssetScope:
        spider = self.crawler.spider
        return AssetScope(getattr(spider, "allowed_domains", None) or [], self.asset_hosts)

    def process_request(self, request: Request) -> Any:
        if not request.meta.get(ASSET_META):
            parts = urlsplit(request.url)
            if parts.path == "/robots.txt" and parts.hostname in self.asset_hosts:
                request.meta["allow_offsite"] = True
            return None
        if self.scope().allows(request.url):
            return None
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("assets/out_of_scope")
        raise IgnoreRequest(f"{request.url} is on neither the portal's hosts nor PORTAL_ASSET_HOSTS")
