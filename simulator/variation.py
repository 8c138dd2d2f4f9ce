"""Seeded variation of the simulated portal: the space of real Hanweb variants, drawn from one number.

``SimulatedPortal(vary=None)`` is the classic portal (the templates the tests were first written against, byte
for byte). ``SimulatedPortal(vary=N)`` draws its templates from the space of variants that real Hanweb portals
show (``../shared/HANWEB.md``): list-side choices in ``simulator/list_variants.py`` (list forms and paths, several
widgets, totals that lie, malformed links, shared article ids) and page-side choices in
``simulator/page_variants.py`` (date forms and labels, count markup, charsets, title markup). The truth stays
exact for every seed, so a crawl of seed N can be checked field by field; a failing seed is replayed with
``crawler simulate --vary N``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Variation:
    """The variation seed of a simulated portal, and the independent random streams drawn from it."""

    seed: int

    def rng(self, *names: object) -> random.Random:
        """A random stream for one decision family (e.g. ``rng("lists", column_id)``), stable for the seed.

        Separate names give separate streams, so adding a new decision to one family never shifts the draws of
        another (the truth of seed N stays comparable across versions of the simulator where it can).
        """
        return random.Random(":".join(["vary", str(self.seed), *map(str, names)]))


def variation_of(vary: int | None) -> Variation | None:
    """``Variation(vary)``, or None for the classic portal."""
    return None if vary is None else Variation(vary)
