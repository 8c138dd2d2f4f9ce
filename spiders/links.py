"""Turning an ``href``/``src`` found on a page into a URL the crawl can request, or into nothing.

A page's links are written by people and by CMS templates: ``http://[bad/x.html``, ``//[x/y``, ``http://a:99999/``,
a ``javascript:`` call, an e-mail address. ``urllib.parse`` raises ``ValueError`` on some of these and
``scrapy.Request`` on others; raised inside a callback, one such link costs every other link of the page (a whole
nav bar, a whole list). Every link a spider follows goes through `absolute_url`, which never raises: the caller
skips a ``None`` and counts it (stat ``links/malformed``).
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from w3lib.html import strip_html5_whitespace

#: What a link may start with and still not be a page of the portal (not malformed: not a link to fetch).
NOT_FETCHABLE = ("javascript:", "mailto:", "tel:", "#", "data:", "about:", "vbscript:")
#: The stat a spider increments for every link `absolute_url` refuses as malformed.
MALFORMED_STAT = "links/malformed"


def is_fetchable_href(href: str | None) -> bool:
    """False for an empty link and for links that are no fetch by design (``javascript:``, ``mailto:``, ``#top``)."""
    text = strip_html5_whitespace(href or "")
    return bool(text) and not text.lower().startswith(NOT_FETCHABLE)


def absolute_url(base: str, href: str) -> str | None:
    """``href`` resolved against ``base`` as a usable http(s) URL, or None when no usable URL can be made of it.

    None for a malformed authority (``[bad``, a port out of range, no host), a non-http(s) scheme, and for what
    `is_fetchable_href` rejects. The fragment is dropped (it never reaches the server); non-ASCII characters are
    left for ``scrapy.Request(url, encoding=…)`` to percent-encode in the page's encoding, as a browser does.
    """
    if not is_fetchable_href(href):
        return None
    try:
        url = urljoin(base, strip_html5_whitespace(href))
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
        if any(ch.isspace() for ch in parts.netloc):
            return None
        return url.split("#", 1)[0]
    except ValueError:
        return None


def document_base(root: object, page_url: str) -> str:
    """The URL a parsed page's relative links resolve against: its ``<base href>`` when that makes a URL, else
    ``page_url`` (a malformed ``<base>`` is ignored, as a browser does)."""
    find = getattr(root, "find", None)
    element = find(".//base") if find is not None else None
    return base_url(page_url, element.get("href") if element is not None else None)


def base_url(page_url: str, base_href: str | None) -> str:
    """`document_base` of a page whose first ``<base>`` has the href *base_href* (None: no base, or no href)."""
    return (absolute_url(page_url, base_href) if base_href else None) or page_url
