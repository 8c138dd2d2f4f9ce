"""Refuse private and special IP addresses at connect time, on every hop (redirects included), with DNS pinning.

Scrapy has no such guard (RELIABILITY 2.7, cases 48-49). Twisted's ``HostnameEndpoint`` asks the reactor's name
resolver for the addresses of *every* connection it opens (IP literals included) and connects to exactly the
addresses it is given. :class:`IpPolicyResolver` (``TWISTED_DNS_RESOLVER``) sits there: it passes on only the
addresses :class:`IpPolicy` allows and pins the first allowed answer for a host name for the rest of the crawl, so a
rebinding DNS server cannot switch a name to an internal address between two connections. A connection whose every
address was refused fails before any ``connect()``; :class:`IpPolicyMiddleware` turns that failure into an
``IgnoreRequest`` that is not retried, counted as ``ip_policy/refused`` and written as a failure row
(reason ``ip_refused``).

Settings: ``ARCHIVER_ALLOWED_IPS`` (addresses, networks or ``address:port`` entries that are allowed even though
they are not globally routable; the tests allow ``127.0.0.1:<port>`` of their fixture server), ``ARCHIVER_PIN_DNS``.
A proxy (``meta["proxy"]``) is checked instead of the target host: the proxy then decides where it connects.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import CannotResolveHostError
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet._resolver import SimpleResolverComplexifier
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

from crawler import wiring
from crawler.errors import CrawlerError
from crawler.fetch.failure_log import record_failure
from crawler.fetch.failure_reasons import IpRefused
from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from twisted.internet.base import ReactorBase
    from twisted.internet.interfaces import IAddress

logger = logging.getLogger(__name__)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class IpPolicyError(CrawlerError, ValueError):
    """An ``ARCHIVER_ALLOWED_IPS`` entry that is not an address, a network or ``address:port``."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_v4(ip: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, NAT64, 6to4, Teredo client), if any."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return None


def is_public(ip: IpAddress) -> bool:
    """True for globally routable unicast addresses only (not private, loopback, link-local, CGNAT, reserved...)."""
    inner = _embedded_v4(ip)
    if inner is not None and not is_public(inner):
        return False
    return ip.is_global and not ip.is_multicast


class IpPolicy:
    """Which addresses a crawl may connect to: public ones, plus the explicit allow-list."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.networks: list[IpNetwork] = []
        self.endpoints: set[tuple[IpAddress, int]] = set()
        for entry in allowed:
            self._add(str(entry).strip())

    def _add(self, entry: str) -> None:
        if not entry:
            return
        try:
            self.networks.append(ipaddress.ip_network(entry, strict=False))
            return
        except ValueError:
            pass
        host, sep, port = entry.rpartition(":")
        try:
            if not sep or not port.isdigit():
                raise ValueError(entry)
            self.endpoints.add((ipaddress.ip_address(host.strip("[]")), int(port)))
        except ValueError as exc:
            raise IpPolicyError(
                f"ARCHIVER_ALLOWED_IPS entry {entry!r} is not an IP address, a network (10.0.0.0/8) "
                "or address:port (127.0.0.1:8080)"
            ) from exc

    def refusal(self, address: str, port: int = 0) -> str | None:
        """Why connecting to ``address:port`` is refused, or None when it is allowed."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        if (ip, port) in self.endpoints or any(ip in net for net in self.networks if net.version == ip.version):
            return None
        if is_public(ip):
            return None
        return f"{ip} is not a public address (allow it with ARCHIVER_ALLOWED_IPS)"

    def allows(self, address: str, port: int = 0) -> bool:
        """True when connecting to ``address:port`` is allowed."""
        return self.refusal(address, port) is None

    @classmethod
    def from_settings(cls, settings: Any) -> Self:
        return cls(wiring.getlist(settings, "ARCHIVER_ALLOWED_IPS"))


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:
        """Resolutions from the pin table complete at once; nothing to cancel."""


@implementer(IResolutionReceiver)
class _FilteringReceiver:
    """Forward only allowed addresses; remember what was refused and what to pin."""

    def __init__(self, owner: IpPolicyResolver, receiver: IResolutionReceiver, host: str, port: int) -> None:
        self.owner, self.receiver, self.host, self.port = owner, receiver, host, port
        self.allowed: list[IAddress] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        host = getattr(address, "host", "")
        reason = self.owner.policy.refusal(host, getattr(address, "port", self.port) or self.port)
        if reason is not None:
            self.owner.refused[self.host] = reason
            logger.warning("IP policy: not connecting to %s (%s): %s", self.host, host, reason)
            return
        self.allowed.append(address)
        self.receiver.addressResolved(address)

    def resolutionComplete(self) -> None:
        if self.allowed:
            self.owner.refused.pop(self.host, None)
            if self.owner.pin and self.host not in self.owner.pins:
                self.owner.pins[self.host] = [getattr(a, "host", "") for a in self.allowed]
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class IpPolicyResolver:
    """``TWISTED_DNS_RESOLVER``: Scrapy's caching resolver behind an address filter and a pin table."""

    def __init__(self, reactor: ReactorBase, policy: IpPolicy, upstream: Any, pin: bool = True) -> None:
        self.reactor = reactor
        self.policy = policy
        self.upstream = upstream
        self.pin = pin
        #: host name -> the addresses first resolved and allowed for it
        self.pins: dict[str, list[str]] = {}
        #: host name -> why its last resolution was refused (read by IpPolicyMiddleware)
        self.refused: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> Self:
        settings = crawler.settings
        upstream = SimpleResolverComplexifier(CachingThreadedResolver.from_crawler(crawler, reactor))
        return cls(reactor, IpPolicy.from_settings(settings), upstream, wiring.getbool(settings, "ARCHIVER_PIN_DNS"))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        pinned = self.pins.get(hostName)
        if pinned is not None:
            resolution = _Resolution(hostName)
            resolutionReceiver.resolutionBegan(resolution)
            for host in pinned:
                if self.policy.allows(host, portNumber):
                    kind = IPv6Address if ":" in host else IPv4Address
                    resolutionReceiver.addressResolved(kind("TCP", host, portNumber))
                else:
                    self.refused[hostName] = f"{host} is not allowed on port {portNumber}"
            resolutionReceiver.resolutionComplete()
            return resolution
        receiver = _FilteringReceiver(self, resolutionReceiver, hostName, portNumber)
        return self.upstream_resolve(receiver, hostName, portNumber, addressTypes, transportSemantics)

    def upstream_resolve(self, receiver: IResolutionReceiver, host: str, port: int,
                         address_types: Sequence[type[IAddress]] | None, semantics: str) -> IHostResolution:
        """Ask the real resolver (tests override this to play a rebinding DNS server)."""
        resolution: IHostResolution = self.upstream.resolveHostName(receiver, host, port, address_types, semantics)
        return resolution


def installed_resolver() -> IpPolicyResolver | None:
    """The reactor's IpPolicyResolver, when TWISTED_DNS_RESOLVER installed one."""
    from twisted.internet import reactor

    resolver = getattr(reactor, "nameResolver", None)
    return resolver if isinstance(resolver, IpPolicyResolver) else None


class IpPolicyMiddleware(CrawlerComponent):
    """Downloader middleware: a connection refused by the IP policy fails for good (no retry), counted."""

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, CannotResolveHostError | DNSLookupError):
            return
        resolver = installed_resolver()
        proxy = request.meta.get("proxy")
        host = (urlparse_cached(request).hostname or "") if not proxy else (str(proxy).split("//")[-1].split(":")[0])
        reason = resolver.refused.get(host) if resolver is not None else None
        if reason is None:
            return
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("ip_policy/refused")
        # Raising ends the process_exception chain, so the failure row is written here.
        record_failure(self.crawler, request, IpRefused.reason, reason)
        raise IpRefused(f"ip_refused: {request.url}: {reason}")
