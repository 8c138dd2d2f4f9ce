"""List-side variation of the simulated portal (``--vary SEED``): how a column page names and pages its lists.

Drawn per column from ``Variation.rng("lists", column_id)`` (HANWEB.md, "Variation seen across real portals"):

- the list form: ``post`` (a jpage call; the endpoint answers the record-range POST only; the ``<nextgroup>`` link
  is the startrecord kind), ``get`` (no jpage call; the ``<nextgroup>`` GET chain ``page=N`` only) or ``both``;
- the ``<nextgroup>`` page of a GET list: ``page=1`` (the embedded page again) or ``page=2`` (the next one);
- the endpoint's path: ``/module/web/jpage/dataproxy.jsp`` or the older ``/module/jpage/dataproxy.jsp``;
- the page's ``totalRecord``: honest, stale (two fifths of the list), absent, or 3,000,000 (the endpoint's own
  ``<totalrecord>`` stays honest);
- a side list before the main one: its own unit id, 5 records of another column (the newest), a malformed record
  link among them, and an endpoint that answers it with an empty list.

The truth does not change: every release is still listed by its own column's main list.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NEW_PROXY = "/module/web/jpage/dataproxy.jsp"
OLD_PROXY = "/module/jpage/dataproxy.jsp"
#: A side list's unit id is its column's unit id plus this.
SIDE_UNIT_OFFSET = 1_000_000
SIDE_RECORDS = 5
HUGE_TOTAL = 3_000_000
MALFORMED_RECORD = '<li><a href="//[x/y" title="链接">链接</a><span>2020-01-01</span></li>'


@dataclass(frozen=True)
class ListVariant:
    """How one column page names and pages its list (see the module docstring)."""

    form: str  # post | get | both
    nextgroup_page: int  # 1 | 2 (GET lists)
    proxy: str
    declared: str  # honest | stale | absent | huge
    side_list: bool
    side_source: int  # index (in COLUMNS) of the column whose newest records the side list shows

    @property
    def answers_post(self) -> bool:
        return self.form in ("post", "both")

    @property
    def answers_get(self) -> bool:
        return self.form in ("get", "both")

    def declared_total(self, total: int) -> int | None:
        """The ``totalRecord`` the column page declares for a list of ``total`` records."""
        if self.declared == "stale":
            return max(1, total * 2 // 5)
        if self.declared == "absent":
            return None
        if self.declared == "huge":
            return HUGE_TOTAL
        return total


def draw_list_variant(rng: random.Random, columns: int) -> ListVariant:
    """One column's list variant, from its own random stream."""
    return ListVariant(
        form=rng.choice(["post", "get", "both"]),
        nextgroup_page=rng.choice([1, 2]),
        proxy=rng.choice([NEW_PROXY, OLD_PROXY]),
        declared=rng.choice(["honest", "honest", "stale", "absent", "huge"]),
        side_list=rng.random() < 0.4,
        side_source=rng.randrange(columns),
    )
