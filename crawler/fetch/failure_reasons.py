"""Why the crawl gave up on a request: one class per failure reason, and ``REASONS`` derived from them.

The ``reason`` of a failure row (``failures.jsonl``) is the ``reason`` of one of these classes, or ``http_<status>``
for a final 4xx/5xx response. The requests our own components refuse raise a `Refused` subclass, so
:func:`classify` reads the reason from the type, never from the message. The other classes name reasons that are
recorded where they happen (`RedirectLoop`, `ContentDecoding`, ...) or that Scrapy's and Twisted's own exceptions
map to (`Timeout`, `Dns`, ...); they are never raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)

from crawler.errors import CrawlerError

if TYPE_CHECKING:
    from scrapy.http import Request


class FetchFailure(CrawlerError):
    """Root of the failure reasons; ``reason`` is what the failure row says."""

    reason: ClassVar[str] = "error"
    #: The type name a failure row's ``detail`` shows for this exception (None: the class's own name).
    shown_as: ClassVar[str | None] = None
    #: A deliberate skip by policy (robots.txt, an off-site link), not a failure: counted, never a failure row.
    skip: ClassVar[bool] = False


class Refused(FetchFailure, IgnoreRequest):
    """A request one of our components drops instead of fetching it (an ``IgnoreRequest`` to Scrapy)."""

    reason = "ignored"
    shown_as: ClassVar[str | None] = "IgnoreRequest"


class HitCounterRefused(Refused):
    """A hit counter (visit.jsp, articlehits.jsp, artcount.jsp): fetching one inflates the portal's count."""

    reason = "hit_counter"


class RobotsDisallowed(Refused):
    """robots.txt disallows the URL (a skip by policy: counted, no failure row)."""

    reason = "robots"
    skip = True


class RobotsUnavailable(Refused):
    """The host's robots.txt answered 5xx or could not be fetched: nothing is fetched there for now."""

    reason = "robots_unavailable"


class OffsiteRefused(Refused):
    """A link to a host that is not the portal's (a skip by scope: counted per host, no failure row)."""

    reason = "offsite"
    skip = True


class OffsiteRedirectRefused(OffsiteRefused):
    """A redirect leads off the portal's hosts: what the URL answered is not archived (a failure row)."""

    reason = "offsite_redirect"
    skip = False


class IpRefused(Refused):
    """Every address of the host is refused by the IP policy."""

    reason = "ip_refused"


class HostPageCapError(Refused):
    """A host reached ``TRAP_MAX_PAGES_PER_HOST``."""

    reason = "host_page_cap"
    shown_as = None


class UrlTooLong(Refused):
    """A release URL longer than ``URLLENGTH_LIMIT`` (Scrapy would drop it silently): never requested."""

    reason = "url_too_long"
    shown_as = None


# -- reasons recorded where they happen (the component that gives up writes the row) -------------------------


class RedirectLoop(FetchFailure):
    reason = "redirect_loop"


class RedirectScheme(FetchFailure):
    reason = "redirect_scheme"


class ContentDecoding(FetchFailure):
    reason = "content_decoding"


# -- a release URL that answered, but with no release (crawler.fetch.release_checks) ---------------------------


class Soft404(FetchFailure):
    """The CMS's not-found page served with 200, or a redirect (HTTP or meta refresh) to the home page or a column."""

    reason = "soft_404"


class NoContent(FetchFailure):
    """204 No Content for a release page."""

    reason = "no_content"


class UnsolicitedNotModified(FetchFailure):
    """304 Not Modified to a request that asked no condition (no If-None-Match / If-Modified-Since)."""

    reason = "unsolicited_304"


class Unaccounted(FetchFailure):
    """A release URL the crawl learnt of that reached no outcome by the end of the run (crawler.report.ledger)."""

    reason = "unaccounted"


class NotFetched(FetchFailure):
    """A release URL learnt by a run that stopped early (Ctrl-C, a full disk) before it was fetched."""

    reason = "not_fetched"


class ParseError(FetchFailure):
    """The release page was fetched, but the spider failed on it (an exception in its callback)."""

    reason = "parse_error"


class NotExported(FetchFailure):
    """A release page was fetched but its row was dropped (did not validate, no WARC record) or never written."""

    reason = "not_exported"


# -- reasons Scrapy's and Twisted's exceptions map to -------------------------------------------------------------


class ConnectRefused(FetchFailure):
    reason = "connect_refused"


class NoResponse(FetchFailure):
    reason = "no_response"


class Dns(FetchFailure):
    reason = "dns"


class Timeout(FetchFailure):
    reason = "timeout"


class DataLoss(FetchFailure):
    reason = "dataloss"


class MaxSize(FetchFailure):
    reason = "maxsize"


class Tls(FetchFailure):
    reason = "tls"


def _reasons(cls: type[FetchFailure]) -> list[str]:
    found = [cls.reason]
    for sub in cls.__subclasses__():
        found += [r for r in _reasons(sub) if r not in found]
    return found


#: Every failure reason (and ``http_<status>`` for final 4xx/5xx responses).
REASONS: tuple[str, ...] = tuple(_reasons(FetchFailure))


def _skips(cls: type[FetchFailure]) -> set[str]:
    found = {cls.reason} if cls.skip else set()
    for sub in cls.__subclasses__():
        found |= _skips(sub)
    return found


#: The reasons that are skips by policy, not failures: counted (``skips/<reason>`` for releases), never a row.
SKIP_REASONS: frozenset[str] = frozenset(_skips(FetchFailure))


def shown_name(exc: BaseException) -> str:
    """The type name a failure row's ``detail`` gives *exc*."""
    return getattr(type(exc), "shown_as", None) or type(exc).__name__


def offsite_failure(request: Request) -> type[OffsiteRefused]:
    """The offsite reason of a request: a redirect hop, or a link."""
    return OffsiteRedirectRefused if request.meta.get("redirect_urls") else OffsiteRefused


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def classify(exc: BaseException) -> str:
    """The failure reason for an exception that ended a request."""
    if isinstance(exc, FetchFailure):
        return exc.reason
    if isinstance(exc, IgnoreRequest):  # Scrapy's own drops (and ours that name no reason)
        return Refused.reason
    names = " ".join(type(e).__name__ for e in _causes(exc))
    text = str(exc).lower()
    if isinstance(exc, DownloadConnectionRefusedError) or "ConnectionRefused" in names:
        return ConnectRefused.reason
    if isinstance(exc, CannotResolveHostError) or "DNSLookupError" in names:
        return Dns.reason
    if isinstance(exc, DownloadTimeoutError) or "TimeoutError" in names:
        return Timeout.reason
    if isinstance(exc, DownloadCancelledError) or "CancelledError" in names:
        return MaxSize.reason
    if isinstance(exc, ResponseDataLossError) or "_DataLoss" in names:
        return DataLoss.reason
    if "SSL" in names or "TLS" in names or "certificate" in text:
        return Tls.reason
    if isinstance(exc, DownloadFailedError) or "ResponseNeverReceived" in names or "ResponseFailed" in names:
        return NoResponse.reason if "NeverReceived" in names or "never" in text else DataLoss.reason
    return FetchFailure.reason
