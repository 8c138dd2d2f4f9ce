"""Hit-count normalisation: the text after a hit label -> an integer 0..2^63-1, or None when the count is unknown.

Unknown is never 0: a count drawn by a script, an empty label or a value that is not one of the forms below give
None (``hits_raw`` keeps the text); a ``0`` printed in the HTML is a real 0. The forms (docs/schema.md, "Hit
counts"), after Unicode NFKC (full-width digits and commas become ASCII):

- digits: ``1234``; with a unit word after them: ``123次``, ``123 次``;
- thousands groups of exactly three digits after a comma, a space, a no-break or thin space or an apostrophe:
  ``12,345``, ``12 345``, ``1，234`` (``1,2345`` is no count);
- a Chinese or Latin multiplier after an integer or a decimal: ``1.2万`` (12000), ``3千``, ``10亿``
  (1000000000), ``1.2w``, ``5k``; the product must be a whole number;
- anything else is None: a sign (``-3``, ``+5``), a decimal without multiplier (``1.5``), an exponent (``1e6``:
  no template prints a count so, and an exact figure is not asserted from it), text, a date;
- a count above 2^63-1 is None (no reader or database can hold it as an integer; ``hits_raw`` keeps it).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pipelines.item_fields import item_fields

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

#: The largest count a row carries: SQLite INTEGER, Arrow int64 and pandas Int64 hold it.
MAX_HITS = 2**63 - 1

_GROUP_SEPARATORS = ", '"  # after NFKC: no-break, thin and ideographic spaces are spaces, "，" is ","
_HITS_RE = re.compile(
    r"^(?:(?P<grouped>\d{1,3}(?:[" + _GROUP_SEPARATORS + r"]\d{3})+)|(?P<plain>\d+))"
    r"(?:\.(?P<fraction>\d+))?[ ]?(?P<unit>[万千亿wWkK])?[ ]?次?$"
)
_UNITS = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000, "亿": 100_000_000}
_MAX_LENGTH = 64  # no count is written in more characters; longer text is something else


def normalize_hits(raw: str | None, scripted: bool) -> int | None:
    """Return the hit count printed in the page, or None when it is unknown (see the module docstring)."""
    if scripted or raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or len(text) > _MAX_LENGTH:
        return None
    m = _HITS_RE.match(text)
    if m is None:
        return None
    digits = m.group("plain") or re.sub(r"\D", "", m.group("grouped"))
    unit = m.group("unit")
    fraction = m.group("fraction")
    if fraction is not None and (unit is None or m.group("grouped")):
        return None  # "1.5" or "1,234.5" is no count
    try:
        value = Decimal(f"{digits}.{fraction}" if fraction else digits)
    except InvalidOperation:  # pragma: no cover - the regex admits digits only
        return None
    if unit:
        value *= _UNITS[unit.lower()]
    if value != value.to_integral_value():
        return None  # 1.23456万 is not a whole number of hits
    count = int(value)
    return count if count <= MAX_HITS else None


class HitsPipeline:
    """Set ``hits`` from ``hits_raw`` (and ``hits_scripted`` when the item carries it)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HitsPipeline:
        """Build the pipeline (it has no settings)."""
        return cls()

    def process_item(self, item: Any) -> Any:
        """Normalise one item's hit count in place and return it."""
        adapter = item_fields(item)
        scripted = bool(adapter.get("hits_scripted", False)) if "hits_scripted" in adapter else False
        adapter["hits"] = normalize_hits(adapter.get("hits_raw"), scripted)
        return item
