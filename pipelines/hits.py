"""Hit-count normalisation: the text after a hit label -> int, or None when the count is unknown.

Unknown is never 0: a count drawn by a script, an empty label or an unparsable value give None; a ``0``
printed in the HTML is a real 0. Accepted: ``1234``, ``1,234`` / ``1，234``, ``123次``, ``1.2万`` (12000),
``3千``, ``1亿``, ``1.2w``/``5k``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

_HITS_RE = re.compile(r"^(?P<num>\d+(?:[,，]\d{3})*(?:\.\d+)?)\s*(?P<unit>[万千亿wWkK])?\s*次?$")
_UNITS = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000, "亿": 100_000_000}


def normalize_hits(raw: str | None, scripted: bool) -> int | None:
    """Return the hit count printed in the page, or None when it is unknown."""
    if scripted or raw is None:
        return None
    text = raw.strip().replace("\xa0", "").replace("\u3000", "").replace(" ", "")
    m = _HITS_RE.match(text)
    if m is None:
        return None
    try:
        value = Decimal(m.group("num").replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    unit = m.group("unit")
    if unit:
        value *= _UNITS[unit.lower()]
    elif value != value.to_integral_value():
        return None  # "1.5" without a unit is not a count
    return int(value)


class HitsPipeline:
    """Set ``hits`` from ``hits_raw`` (and ``hits_scripted`` when the item carries it)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HitsPipeline:
        """Build the pipeline (it has no settings)."""
        return cls()

    def process_item(self, item: Any) -> Any:
        """Normalise one item's hit count in place and return it."""
        adapter = ItemAdapter(item)
        scripted = bool(adapter.get("hits_scripted", False)) if "hits_scripted" in adapter else False
        adapter["hits"] = normalize_hits(adapter.get("hits_raw"), scripted)
        return item
