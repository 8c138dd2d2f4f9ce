"""Note the certificate of every https response in the crawl log (which is archived in the WARC).

Policy: like browsers' "proceed anyway" and like Heritrix, the archive captures what a portal serves even when
its certificate does not verify (Scrapy does not verify by default; many district portals run expired or
self-signed certificates). So that the capture can be judged later, the first https response from each host
logs its certificate's SHA-256 fingerprint, subject, issuer, notAfter and the problems found (``self-signed``,
``expired``), and counts them in stats (``tls/self_signed``, ``tls/expired``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.wiring import CrawlerComponent

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

logger = logging.getLogger(__name__)


def certificate_facts(certificate: Any, now: datetime | None = None) -> dict[str, Any]:
    """Fingerprint, names, expiry and problems of a Twisted ``Certificate`` (or a pyOpenSSL X509)."""
    x509 = certificate.original if hasattr(certificate, "original") else certificate
    subject = x509.get_subject().get_components()
    issuer = x509.get_issuer().get_components()
    not_after_raw = (x509.get_notAfter() or b"").decode("ascii")
    not_after = datetime.strptime(not_after_raw, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC) if not_after_raw else None
    problems = []
    if subject == issuer:
        problems.append("self-signed")
    if not_after is not None and not_after < (now or datetime.now(UTC)):
        problems.append("expired")
    return {
        "sha256": x509.digest("sha256").decode("ascii"),
        "subject": "/".join(f"{k.decode()}={v.decode()}" for k, v in subject),
        "issuer": "/".join(f"{k.decode()}={v.decode()}" for k, v in issuer),
        "not_after": not_after.isoformat() if not_after else None,
        "problems": problems,
    }


class TlsAuditMiddleware(CrawlerComponent):
    """Downloader middleware: log each https host's certificate facts once."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen: set[str] = set()

    def process_response(self, request: Request, response: Response) -> Response:
        certificate = getattr(response, "certificate", None)
        host = urlsplit(response.url).netloc
        if certificate is None or host in self.seen:
            return response
        self.seen.add(host)
        try:
            facts = certificate_facts(certificate)
        except Exception as exc:  # an unreadable certificate is itself worth a line
            logger.warning("TLS certificate of %s could not be read: %s", host, exc)
            return response
        stats = self.crawler.stats
        assert stats is not None
        for problem in facts["problems"]:
            stats.inc_value(f"tls/{problem.replace('-', '_')}")
        level = logging.WARNING if facts["problems"] else logging.INFO
        logger.log(level, "TLS certificate of %s: sha256=%s subject=%s issuer=%s notAfter=%s problems=%s "
                   "(captured anyway: certificates are not verified)", host, facts["sha256"], facts["subject"],
                   facts["issuer"], facts["not_after"], ",".join(facts["problems"]) or "none")
        return response
