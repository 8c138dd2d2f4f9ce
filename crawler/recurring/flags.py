"""The drop flags of a run: a sharp fall of the release count or of a field's coverage against the previous run.

A flagged run still finishes (exit status 3, outcome ``flagged``); a count drop also stops the removal checks, since
a template change or a block would make every release look removed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from crawler.recurring.config import COVERAGE_FIELDS, RecurringConfig

logger = logging.getLogger(__name__)


def count_drop_flags(prev: Any, listed: int, config: RecurringConfig) -> list[str]:
    """``["release_count_drop"]`` when *listed* fell sharply against the previous finished run *prev*."""
    if prev is None or not prev["listed"] or prev["listed"] < 10:
        return []
    if listed < prev["listed"] * (1 - config.drop_threshold):
        logger.error("Release count dropped sharply: %d listed, %d in run %d", listed, prev["listed"], prev["run_id"])
        return ["release_count_drop"]
    return []


def coverage_drop_flags(prev: Any, items: int, coverage: dict[str, float], config: RecurringConfig) -> list[str]:
    """``coverage_drop:<field>`` for each field whose share of items fell sharply against the previous run."""
    if prev is None or not prev["coverage"] or items < config.coverage_min_items:
        return []
    before = json.loads(prev["coverage"])
    if int(before.get("items", 0)) < config.coverage_min_items:
        return []
    flags = []
    for name in COVERAGE_FIELDS:
        if name in before and before[name] - coverage[name] > config.coverage_drop:
            flags.append(f"coverage_drop:{name}")
            logger.error("Coverage of %s dropped sharply: %.0f%% (run %d: %.0f%%)", name, 100 * coverage[name],
                         prev["run_id"], 100 * before[name])
    return flags
