"""A reference walk of a served portal, the way a browser user would page it (a self-check of the fixtures).

It follows ``<a>`` and ``<iframe>`` links to column pages, reads each widget's embedded datastore, then pages the
widget as a browser does: the jpage POST of ``startrecord/endrecord/perpage`` with the ajaxParam form when the page
declares one and it answers a list, else the ``<nextgroup>`` GET chain, else the static ``pageNum`` pager. It never
fetches a release page or a counter. If this walk does not find every release of the truth, the fixture is wrong,
not the crawler.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from html import unescape
from urllib.parse import quote, urlencode, urljoin, urlsplit

COLUMN = re.compile(r"^/col/col\d+/index\.html$")
HREF = re.compile(r"""<(?:a|iframe|IFRAME)\b[^>]*?\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.I)
WIDGET = re.compile(r'<div id="(\d+)"><script type="text/xml">(.*?)</script>', re.S)
NEXTGROUP = re.compile(r'<nextgroup><!\[CDATA\[<a href="([^"]+)"></a>\]\]></nextgroup>')
RECORD = re.compile(r"<record><!\[CDATA\[(.*?)\]\]></record>", re.S)
JPAGE = re.compile(r"\$\('#(\d+)'\)\.jpage\(\{(.*?)\}\);", re.S)
FIELD = re.compile(r"(\w+)\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|([\w.]+))")


def _fetch(url: str, data: dict[str, str] | None = None) -> tuple[int, str]:
    body = urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(quote(url, safe=":/?&=%#"), data=body)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            charset = response.headers.get_content_charset() or ""
            status = response.status
    except urllib.error.HTTPError as error:
        return error.code, ""
    if not charset:
        declared = re.search(rb'charset=["\']?([\w-]+)', raw[:2000])
        charset = declared.group(1).decode() if declared else "utf-8"
    return status, raw.decode("gbk" if charset.lower() in ("gb2312", "gbk") else charset, "replace")


def _fields(text: str) -> dict[str, str]:
    return {m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in FIELD.finditer(text)}


class Walker:
    """Walks one portal from its home page; ``releases`` holds every release URL a user can reach by paging."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")
        self.host = urlsplit(base_url).netloc
        self.releases: set[str] = set()
        self.pages_seen: set[str] = set()

    def _absolute(self, href: str, page: str) -> str | None:
        try:
            url = urljoin(page, unescape(href))
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.netloc != self.host:
            return None
        return url

    def _links(self, html: str, page: str) -> None:
        for href in HREF.findall(html):
            url = self._absolute(href, page)
            if url is None:
                continue
            path = urlsplit(url).path
            if path.startswith("/art/"):
                self.releases.add(url.split("#")[0])
            elif (COLUMN.match(path) or path == "/index.html") and "t=" not in urlsplit(url).query:
                self.queue.append(url)

    def run(self, limit: int = 5000) -> set[str]:
        self.queue = [self.base + "/"]
        while self.queue and len(self.pages_seen) < limit:
            url = self.queue.pop()
            if url in self.pages_seen:
                continue
            self.pages_seen.add(url)
            status, html = _fetch(url)
            if status != 200:
                continue
            self._links(html, url)
            for unit_id, store in WIDGET.findall(html):
                self._widget(url, html, unit_id, store)
        return self.releases

    def _records(self, store: str, page: str) -> int:
        records = RECORD.findall(store)
        for record in records:
            self._links(record, page)
        return len(records)

    def _widget(self, page: str, html: str, unit_id: str, store: str) -> None:
        embedded = self._records(store, page)
        call = next((body for uid, body in JPAGE.findall(html) if uid == unit_id), None)
        if call is not None and self._page_by_ranges(page, html, call, embedded):
            return
        nextgroup = NEXTGROUP.search(store)
        while nextgroup is not None:
            status, answer = _fetch(urljoin(page, unescape(nextgroup.group(1))))
            if status != 200 or not self._records(answer, page):
                return
            nextgroup = NEXTGROUP.search(answer)

    def _page_by_ranges(self, page: str, html: str, call: str, embedded: int) -> bool:
        """Page with the jpage POST; False when it does not answer a list (the caller falls back)."""
        fields = _fields(call)
        form_text = re.search(r"ajaxParam\s*:\s*\{(.*?)\}", call, re.S)
        if form_text is not None:
            form = _fields(form_text.group(1))
        else:
            var = fields.get("ajaxParam", "")
            declared = re.search(r"var\s+" + re.escape(var) + r"\s*=\s*\{(.*?)\};", html, re.S)
            form = _fields(declared.group(1)) if declared else {}
        per_page = int(fields.get("perPage", 15))
        group = per_page * int(fields.get("groupSize", 1))
        proxy = urljoin(page, fields["proxyUrl"])
        start = embedded + 1
        while True:
            query = urlencode({"startrecord": start, "endrecord": start + group - 1, "perpage": per_page})
            status, answer = _fetch(f"{proxy}?{query}", form)
            if status != 200 or "<datastore>" not in answer:
                return False
            if not self._records(answer, page):
                return True
            start += group
