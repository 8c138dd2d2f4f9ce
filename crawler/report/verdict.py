"""The verdict of a run, from its stats alone: ``complete``, ``incomplete`` (what is missing and where), ``failed``
(why), ``flagged``, ``interrupted`` or ``not_run``, and the exit status that follows it (`Exit`, the one list).

The rules, first match wins (docs/reliability.md, "The verdict"):

1. ``not_run`` (exit 4): another run holds the portal, or crawled it since it was found due.
2. ``failed`` (exit 1): an output could not be written (a full disk: WARC, releases.jsonl, failures.jsonl, the
   state); the start URL was refused and nothing was learnt; the run stopped before learning anything; the start
   page is not a portal the spider knows (no Hanweb generator meta, no column link) and nothing was listed; nothing
   was listed; nothing was archived (every listed release failed or was skipped by robots.txt, scope or a limit).
3. ``interrupted`` (exit 5): stopped by Ctrl-C (SIGINT/SIGTERM); the next run resumes.
4. ``incomplete`` (exit 5): a listed release failed or reached no outcome, a limit skipped releases, a list or column
   page could not be fetched (unless the column's lists were walked to their end in another form), a list was cut
   short (``lists/truncated/<id>``: the trap cap ``LIST_MAX_PAGES_PER_WIDGET``; ``lists/unfinished/<id>``: no form of
   a widget answered a list), a column listed fewer releases than it declares (``lists/declared_total/<id>``) while
   its lists were not all walked to their end (``lists/exhausted/<id>``), or the run stopped early for another
   reason. A column short of its declared total whose lists were all exhausted is a note, not a loss: totals are
   stale (``list_end`` of the column in report.json).
5. ``flagged`` (exit 3): complete, but the release count or the field coverage dropped sharply against the previous
   run (docs/recurring.md).
6. ``complete`` (exit 0): every listed release was archived, or skipped as robots.txt, scope, unchanged, old,
   not modified, removed or archived before an interruption allow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Exit(IntEnum):
    """Exit statuses of the ``crawler`` command, the one list of them (docs/recurring.md mirrors it)."""

    #: complete: everything the portal lists was archived (or skipped as documented)
    OK = 0
    #: failed (start URL refused, not a portal, nothing listed, nothing archived, disk full), ``verify`` found
    #: problems, packaging failed
    PROBLEM = 1
    #: bad input: a bad option value, a missing directory, a file that is not a WARC (one line on stderr)
    BAD_INPUT = 2
    #: finished but flagged: the release count or the field coverage dropped sharply against the previous run
    FLAGGED = 3
    #: not run: another run holds the portal, or crawled it since it was found due
    NOT_RUN = 4
    #: incomplete: archived less than the portal lists (the summary names what is missing and where), or interrupted
    INCOMPLETE = 5


OUTCOME_EXIT: dict[str, Exit] = {
    "complete": Exit.OK, "failed": Exit.PROBLEM, "flagged": Exit.FLAGGED, "not_run": Exit.NOT_RUN,
    "incomplete": Exit.INCOMPLETE, "interrupted": Exit.INCOMPLETE,
}
#: Skips that leave a run complete (the portal asked, it is not the portal's, or it is archived already).
COMPLETE_SKIPS = frozenset({"robots", "offsite", "unchanged", "old", "not_modified", "resumed", "removed",
                            "duplicate"})
#: Skips by which a run stays short of what the portal lists.
LIMIT_SKIPS = frozenset({"depth_limit", "url_too_long", "host_page_cap"})
#: Skips that mean the release is archived already (a recurring run that archived nothing new is not failed).
KNOWN_SKIPS = frozenset({"unchanged", "old", "not_modified", "resumed"})
NOT_RUN_REASONS = {"portal_locked": "another run holds this portal", "not_due": "crawled by another run since it "
                   "was found due", "fenced": "a run with a newer lease token holds this portal (docs/scaleout.md)"}
WRITE_FAILED_REASONS = ("warc_write_failed", "jsonl_write_failed", "failures_write_failed", "state_write_failed",
                        "report_write_failed")
INTERRUPT_REASONS = ("shutdown",)


@dataclass(frozen=True)
class ColumnCount:
    """One column's accounting: what it declares, what its lists named, and where those ended."""

    column_id: str
    name: str | None
    declared: int | None
    listed: int
    archived: int
    failed: int
    skipped: int
    list_failures: int
    #: how the column's lists ended: ``exhausted`` (every widget walked to its end), ``truncated`` (the trap cap
    #: stopped one), ``unfinished`` (no form of a widget answered a list), None (not known: not walked, old stats)
    list_end: str | None = None

    @property
    def short(self) -> int:
        """How many releases the column declares that its lists never named (0 when none or unknown)."""
        return max(0, (self.declared or 0) - self.listed)

    @property
    def lost_short(self) -> int:
        """`short`, unless every list of the column was walked to its end (then the declared total is stale)."""
        return 0 if self.list_end == "exhausted" else self.short

    @property
    def label(self) -> str:
        return f"column {self.column_id}" + (f" ({self.name})" if self.name else "")


@dataclass
class Verdict:
    """What a run achieved, in words a person reads first, and the exit status that follows."""

    outcome: str
    reason: str
    details: list[str] = field(default_factory=list)
    columns_short: list[ColumnCount] = field(default_factory=list)
    #: What a person should know that does not change the outcome (dead links on the portal's pages).
    notes: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> Exit:
        return OUTCOME_EXIT[self.outcome]

    @property
    def headline(self) -> str:
        """The first line of the summary: the outcome, then why."""
        return f"{self.outcome.upper().replace('_', ' ')}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "exit_status": int(self.exit_status), "reason": self.reason,
                "details": list(self.details), "notes": list(self.notes)}


def _int(stats: Mapping[str, Any], key: str) -> int:
    value = stats.get(key, 0)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def prefixed(stats: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """``{rest: value}`` of the stats whose key starts with *prefix*."""
    return {key[len(prefix):]: value for key, value in stats.items() if key.startswith(prefix)}


def columns(stats: Mapping[str, Any]) -> list[ColumnCount]:
    """Every column the run declared a total for or listed a release in, by column id."""
    declared = {k: _int(stats, f"lists/declared_total/{k}") for k in prefixed(stats, "lists/declared_total/")}
    ids = set(declared)
    per: dict[str, dict[str, Any]] = {}
    for key, value in prefixed(stats, "ledger/column/").items():
        column, _, field_name = key.rpartition("/")
        per.setdefault(column, {})[field_name] = value
        ids.add(column)
    failed_lists = {k: _int(stats, f"lists/failed/{k}") for k in prefixed(stats, "lists/failed/")}
    ids |= set(failed_lists)
    ends = {k: end for end in ("exhausted", "unfinished", "truncated") for k in prefixed(stats, f"lists/{end}/")}
    ids |= set(ends) - {"?"}
    found = []
    for column in sorted(ids, key=lambda c: (len(c), c)):
        counts = per.get(column, {})
        name = counts.get("name") or stats.get(f"lists/column_name/{column}")
        found.append(ColumnCount(column, str(name) if name else None, declared.get(column),
                                 int(counts.get("listed", 0)), int(counts.get("archived", 0)),
                                 int(counts.get("failed", 0)) + int(counts.get("open", 0)),
                                 int(counts.get("skipped", 0)), failed_lists.get(column, 0), ends.get(column)))
    return found


def _top(counts: Mapping[str, Any], limit: int = 4) -> str:
    items = sorted(((k, int(v)) for k, v in counts.items() if int(v or 0)), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {v}" for k, v in items[:limit])
    return text + (", ..." if len(items) > limit else "")


def _write_failure(stats: Mapping[str, Any]) -> str | None:
    failed = {k: str(v) for k, v in prefixed(stats, "output/write_failed/").items()}
    reason = str(stats.get("finish_reason") or "")
    if not failed and reason not in WRITE_FAILED_REASONS:
        return None
    text = "; ".join(f"{name}: {error}" for name, error in sorted(failed.items())) or reason
    if re.search(r"ENOSPC|No space left|errno 28|database or disk is full", text, re.IGNORECASE):
        return f"disk full ({text})"
    return f"an output could not be written ({text})"


def decide(stats: Mapping[str, Any]) -> Verdict:
    """The verdict of a run from its final stats (see the module docstring)."""
    reason = str(stats.get("finish_reason") or "unknown")
    if reason in NOT_RUN_REASONS:
        return Verdict("not_run", NOT_RUN_REASONS[reason])
    learnt, archived = _int(stats, "ledger/learnt"), _int(stats, "ledger/archived")
    failed, skipped = _int(stats, "ledger/failed") + _int(stats, "ledger/open"), _int(stats, "ledger/skipped")
    failed_by = prefixed(stats, "ledger/failed/")
    skipped_by = {k: _int(stats, f"ledger/skipped/{k}") for k in prefixed(stats, "ledger/skipped/")}
    counts = f"{archived} of {learnt} listed releases archived, {failed} failed, {skipped} skipped"
    written = _write_failure(stats)
    if written is not None:
        return Verdict("failed", written, [counts])
    start_failed = _int(stats, "start/failed")
    if start_failed and learnt == 0:
        url, why = stats.get("start/failed_url", "the start URL"), stats.get("start/failed_reason", "error")
        words = {"connect_refused": "nothing is listening there", "dns": "its host name does not resolve",
                 "timeout": "it did not answer in time", "no_response": "it closed the connection without an answer",
                 "robots_unavailable": "its robots.txt could not be fetched", "ip_refused": "its address is not "
                 "allowed (ARCHIVER_ALLOWED_IPS)"}
        return Verdict("failed", f"start URL refused: {url} ({why}: {words.get(str(why), 'no page')})")
    if reason in INTERRUPT_REASONS:
        return Verdict("interrupted", f"stopped by Ctrl-C ({counts}); the next run resumes")
    if learnt == 0:
        if reason != "finished":
            return Verdict("failed", f"the run stopped ({reason}) before any release was listed")
        if _int(stats, "home/pages") and not _int(stats, "home/hanweb") and not _int(stats, "home/column_links"):
            return Verdict("failed", f"not a portal the spider knows: {stats.get('home/url', 'the start page')} has "
                           "no Hanweb generator meta and no column links")
        return Verdict("failed", "nothing listed: no release link was found on the start page, its columns or "
                       "their lists")
    known = sum(skipped_by.get(k, 0) for k in KNOWN_SKIPS)
    if archived == 0 and known == 0:
        why = [f"failed: {_top(failed_by)}" if failed else "", f"skipped: {_top(skipped_by)}" if skipped else ""]
        return Verdict("failed", f"nothing archived: {learnt} listed releases, " + "; ".join(w for w in why if w))
    return _complete_or_not(stats, reason, counts, failed, failed_by, skipped_by)


def _complete_or_not(stats: Mapping[str, Any], reason: str, counts: str, failed: int, failed_by: Mapping[str, Any],
                     skipped_by: Mapping[str, int]) -> Verdict:
    details: list[str] = []
    if failed:
        details.append(f"{failed} listed releases failed ({_top(failed_by)}): see failures.jsonl")
    limited = {k: v for k, v in skipped_by.items() if k in LIMIT_SKIPS and v}
    if limited:
        details.append(f"{sum(limited.values())} listed releases skipped by limits ({_top(limited)})")
    other = {k: v for k, v in skipped_by.items() if k not in COMPLETE_SKIPS and k not in LIMIT_SKIPS and v}
    if other:
        details.append(f"{sum(other.values())} listed releases skipped ({_top(other)})")
    cols = columns(stats)
    short = [c for c in cols if c.lost_short]
    for column in short[:20]:
        details.append(f"{column.label}: lists named {column.listed} of the {column.declared} releases it declares "
                       f"({column.short} missing)")
    if len(short) > 20:
        details.append(f"... and {len(short) - 20} more columns short of their declared totals")
    cut = [c for c in cols if c.list_end in ("truncated", "unfinished")]
    for column in cut[:20]:
        why = ("stopped at LIST_MAX_PAGES_PER_WIDGET pages" if column.list_end == "truncated"
               else "answered no list in any form")
        details.append(f"{column.label}: a list widget {why}: its later releases are unknown")
    recovered = sum(c.list_failures for c in cols if c.list_end == "exhausted")
    list_failures = max(0, _int(stats, "failures/kind/page") - recovered)
    if list_failures:
        where = [f"{c.label}: {c.list_failures}" for c in cols if c.list_failures and c.list_end != "exhausted"][:8]
        details.append(f"{list_failures} list, column or home pages could not be fetched"
                       + (f" ({'; '.join(where)})" if where else "") + ": their releases are unknown")
    if reason != "finished":
        details.append(f"the run stopped early ({reason})")
    notes = []
    stale = [c for c in cols if c.short and not c.lost_short]
    if stale:
        notes.append("lists walked to their end named fewer releases than their columns declare (stale totals): "
                     + "; ".join(f"{c.label}: {c.listed} of {c.declared}" for c in stale[:8])
                     + (" ..." if len(stale) > 8 else ""))
    if recovered:
        notes.append(f"{recovered} list requests failed in one form, and their lists were walked to the end in "
                     "another: see failures.jsonl")
    dead = _int(stats, "failures/kind/dead_link")
    if dead:
        notes.append(f"{dead} links on the portal's pages lead to pages it says do not exist (404/410): see "
                     "failures.jsonl")
    if details:
        missing = sum(c.lost_short for c in short)
        lost = failed + sum(limited.values()) + sum(other.values())
        names = ", ".join(c.label for c in short[:5]) + (" ..." if len(short) > 5 else "")
        pieces = [f"{lost} listed releases not archived" if lost else "",
                  f"{missing} releases declared but never listed ({names})" if missing else "",
                  "lists cut short (" + ", ".join(c.label for c in cut[:5]) + ")" if cut else "",
                  f"{list_failures} list pages could not be fetched" if list_failures else "",
                  f"stopped early ({reason})" if reason != "finished" else ""]
        head = f"{counts}; " + "; ".join(p for p in pieces if p)
        return Verdict("incomplete", head, details, short, notes)
    flags = stats.get("recurring/flagged")
    if flags:
        return Verdict("flagged", f"{counts}; the run dropped sharply against the previous one ({flags})",
                       notes=notes)
    return Verdict("complete", counts, notes=notes)
