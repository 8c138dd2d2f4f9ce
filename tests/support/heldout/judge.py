"""What is wrong with one finished crawl, as a list of sentences a developer can act on (empty: nothing)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from .compare import duplicates_report, fields_report, missing_report, where_listed
from .runs import Finished


def request_summary(finished: Finished) -> str:
    """Requests by kind; list-endpoint requests by widget with the furthest record or page asked for."""
    kinds: Counter[str] = Counter()
    units: dict[str, list[int]] = {}
    for request in finished.log:
        path = request.path
        if path.endswith("dataproxy.jsp"):
            params = request.params
            position = int(params.get("endrecord") or params.get("page") or 0) if (
                params.get("endrecord") or params.get("page") or "0").isdigit() else 0
            units.setdefault(params.get("unitid", "?"), []).append(position)
            kinds["list endpoint"] += 1
        elif path.startswith("/art/"):
            kinds["release pages"] += 1
        elif path.startswith("/col/"):
            kinds["column pages"] += 1
        else:
            kinds["other"] += 1
    text = ", ".join(f"{kind} {count}" for kind, count in kinds.most_common())
    busy = sorted(units.items(), key=lambda item: -len(item[1]))[:3]
    if busy:
        text += "; list requests by unitid: " + ", ".join(
            f"{unit}: {len(seen)} (furthest endrecord/page {max(seen)})" for unit, seen in busy)
    return text


def replay_hint(finished: Finished) -> str:
    outcome = finished.outcome
    ran = (f"crawl: exit {outcome.returncode}, {outcome.seconds:.1f} s, {len(outcome.rows)} release rows, "
           f"{len(outcome.failures)} failure rows, {len(finished.log)} requests ({request_summary(finished)}); "
           f"out dir {outcome.out_dir}")
    if finished.case is not None:
        return f"hostile case {finished.case.name} (issue {finished.case.issue}): {finished.case.what}\n{ran}"
    return (f"seed {finished.site.seed}: {len(finished.truth)} releases (replay: cd tests && python -m support.heldout "
            f"--seed {finished.site.seed})\n  " + "\n  ".join(finished.site.notes) + f"\n{ran}")


def release_rows(finished: Finished, url: str) -> list[dict[str, Any]]:
    return [row for row in finished.outcome.rows if row.get("url") == url]


def failure_rows(finished: Finished, url: str) -> list[dict[str, Any]]:
    return [row for row in finished.outcome.failures
            if row.get("url") == url or url in (row.get("redirect_urls") or [])]


def crash_problems(finished: Finished) -> list[str]:
    """A hang, a signal, a traceback, or an exception a page's processing died of."""
    outcome, problems = finished.outcome, []
    if outcome.timed_out:
        problems.append(f"no end: the crawl was still running after {outcome.seconds:.0f} s and was interrupted")
    elif outcome.returncode is not None and outcome.returncode < 0:
        problems.append(f"the crawl died of signal {-outcome.returncode}")
    if "Traceback" in outcome.output:
        problems.append("a traceback on the terminal: " + outcome.output[outcome.output.index("Traceback"):][:400])
    exceptions = finished.crawl_stats().get("spider_exceptions/count")
    if exceptions and exceptions != "0":
        kinds = {k: v for k, v in finished.crawl_stats().items() if k.startswith("spider_exceptions/")}
        problems.append(f"unhandled exceptions while processing pages (crawl.log stats): {kinds}")
    if outcome.bad_lines:
        problems.append(f"{outcome.bad_lines} unreadable JSON lines in releases.jsonl/failures.jsonl")
    return problems


def extra_rows(finished: Finished) -> list[str]:
    """Release rows for URLs that are not releases (an error page, the home page, a list page)."""
    truth = {t["url"] for t in finished.truth}
    extra = Counter(row.get("url") for row in finished.outcome.rows if row.get("url") not in truth)
    return [f"{url} x{n}" for url, n in extra.items()]


def seed_missing(finished: Finished) -> tuple[list[str], str]:
    """(missing URLs, report) for a seeded portal."""
    return missing_report(finished.truth, finished.outcome.rows, where_listed(finished.site, finished.bases))


def seed_fields(finished: Finished) -> tuple[int, str]:
    return fields_report(finished.truth, finished.outcome.rows)


def seed_listing_problems(finished: Finished) -> list[str]:
    missing, report = seed_missing(finished)
    problems = [report] if missing else []
    duplicates = duplicates_report(finished.outcome.rows)
    if duplicates:
        problems.append(duplicates)
    extra = extra_rows(finished)
    if extra:
        problems.append(f"{len(extra)} release rows for URLs that are no release: {', '.join(extra[:4])}")
    return problems


def exit_problems(finished: Finished) -> list[str]:
    """No hang, no crash, and a non-zero exit status when a listed release has no row (lost or failed)."""
    problems = crash_problems(finished)
    archived = {row.get("url") for row in finished.outcome.rows}
    absent = [t["url"] for t in finished.truth if t["url"] not in archived]
    failed = sum(1 for url in absent if failure_rows(finished, url))
    if finished.outcome.returncode == 0 and absent:
        problems.append(f"exit status 0 although {len(absent)} of {len(finished.truth)} listed releases have no "
                        f"release row ({failed} of them a failure row): the verdict must be incomplete, non-zero")
    return problems


def _fetched(row: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(row.get("fetched_at")).replace("Z", "+00:00"))
    except ValueError:
        return None


def _warc_skips(finished: Finished) -> set[str]:
    """Target URIs of WARC metadata records (where the crawler says why it skipped a file)."""
    uris: set[str] = set()
    for path in sorted((finished.outcome.out_dir / "warc").glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "metadata":
                    uris.add(record.rec_headers.get_header("WARC-Target-URI") or "")
    return uris


def case_problems(finished: Finished) -> list[str]:
    """What the crawl of a hostile case did wrong."""
    case, base = finished.case, finished.bases["portal"]
    assert case is not None
    problems: list[str] = []
    archived = {row.get("url") for row in finished.outcome.rows}
    missing = [base + p for p in case.must_archive if base + p not in archived]
    if missing:
        lost = sum(1 for url in missing if not failure_rows(finished, url))
        problems.append(f"{len(missing)} of {len(case.must_archive)} releases not archived "
                        f"({lost} without a failure row either); e.g. {', '.join(missing[:4])}")
    for path in case.must_fail:
        url = base + path
        if release_rows(finished, url):
            problems.append(f"{url}: a release row, but the page is not a release (must be a failure row)")
        elif not failure_rows(finished, url):
            problems.append(f"{url}: neither a release row nor a failure row (it vanished without a trace)")
    for path in case.row_or_failure:
        url = base + path
        count = len(release_rows(finished, url)) + len(failure_rows(finished, url))
        if count != 1:
            problems.append(f"{url}: {count} rows in releases.jsonl + failures.jsonl (exactly one wanted)")
    duplicates = duplicates_report(finished.outcome.rows)
    if duplicates:
        problems.append(duplicates)
    extra = extra_rows(finished)
    if extra:
        problems.append(f"release rows for URLs that are no release: {', '.join(extra[:4])}")
    for label, (match, bound) in case.request_bounds.items():
        count = sum(1 for request in finished.log if match(request))
        if count > bound:
            problems.append(f"{count} {label} (bound {bound})")
    if case.prompt_seconds is not None:
        times = [t for row in finished.outcome.rows if row.get("url") not in {base + p for p in case.delayed}
                 if (t := _fetched(row)) is not None]
        if times:
            late = (max(times) - finished.started_utc).total_seconds()
            if late > case.prompt_seconds:
                problems.append(f"the other releases waited for the Retry-After page: the last was archived "
                                f"{late:.0f} s after the start (bound {case.prompt_seconds:.0f} s)")
    if case.long_urls:
        skipped = _warc_skips(finished)
        silent = [base + p for p in case.long_urls if base + p not in skipped and not failure_rows(finished, base + p)]
        if silent:
            problems.append(f"{len(silent)} over-long attachment URLs ({len(silent[0])} characters) left no failure "
                            "row and no WARC metadata record saying why they were skipped")
    ids = {row.get("release_id") for path in case.distinct_ids for row in release_rows(finished, base + path)}
    if case.distinct_ids and len(ids) < len(case.distinct_ids):
        problems.append(f"different releases share a release_id {sorted(map(str, ids))}: "
                        f"{', '.join(base + p for p in case.distinct_ids)} (a later run would take one for a change "
                        "of the other)")
    if case.check_fields:
        wrong, report = fields_report(finished.truth, finished.outcome.rows)
        if wrong:
            problems.append(report)
    if case.max_memory is not None:
        memory = finished.crawl_stats().get("memusage/max")
        if memory and int(memory) > case.max_memory:
            problems.append(f"the crawl used {int(memory) / 1e6:.0f} MB (bound {case.max_memory / 1e6:.0f} MB)")
    return problems
