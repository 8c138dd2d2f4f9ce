"""Compare a crawl's rows with the truth and say, in words a developer can act on, what is missing or wrong.

:func:`row_fields` is the ONE place that knows how the crawler names its fields. It reads schema v1 rows
(``column`` object, ``release_datetime`` at the page's precision) and the coming schema 2.0 (``column_id`` /
``column_name`` flattened, ``release_datetime`` always with seconds plus ``release_time_precision``); a later rename
is a change here only.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any
from urllib.parse import urljoin

from .model import Site

#: fields compared one to one after :func:`row_fields` / :func:`truth_fields`
FIELDS = ("title", "release_date", "release_datetime", "release_time_precision", "hits", "source", "index_no",
          "doc_no", "language", "column_id", "attachments")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?(.*)$")


def canonical_datetime(value: str | None) -> tuple[str | None, str | None]:
    """("YYYY-MM-DDTHH:MM:SS<offset>", precision inferred from the text) of an ISO date-time string."""
    if not value:
        return None, None
    match = _DATETIME.match(value)
    if not match:
        return value, None
    minutes, seconds, offset = match.groups()
    return f"{minutes}{seconds or ':00'}{offset}", "second" if seconds else "minute"


def _collapse(value: str | None) -> str:
    return " ".join((value or "").split())


def _attachments(row: dict[str, Any]) -> tuple[list[tuple[str, str]] | None, list[str]]:
    """((url, name) of each well-formed attachment in page order, URLs of those without an archived record)."""
    found = row.get("attachments")
    if found is None:  # schema v1 writes null for "no attachments"; v2 keeps null for "not looked for"
        return ([] if row.get("schema_version", 1) < 2 else None), []
    pairs, unarchived = [], []
    for attachment in found:
        url = attachment.get("url") or ""
        if "[" in url:  # a malformed link the truth does not count as a file
            continue
        absolute = urljoin(row.get("url") or "", url)
        pairs.append((absolute, attachment.get("name")))
        if not attachment.get("warc"):
            unarchived.append(absolute)
    return pairs, unarchived


def row_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The crawler's row in the truth's terms (the only function that knows the crawler's field names)."""
    column = row.get("column") if isinstance(row.get("column"), dict) else {}
    column_id = row["column_id"] if "column_id" in row else column.get("id")
    stamp, precision = canonical_datetime(row.get("release_datetime"))
    if "release_time_precision" in row:  # schema 2.0: the precision is a field, the text always has seconds
        precision = row["release_time_precision"] if stamp else None
    attachments, unarchived = _attachments(row)
    return {
        "url": row.get("url"),
        "title": row.get("title"),
        "release_date": row.get("release_date"),
        "release_datetime": stamp,
        "release_time_precision": precision,
        "hits": row.get("hits"),
        "source": row.get("source"),
        "index_no": row.get("index_no"),
        "doc_no": row.get("doc_no"),
        "language": row.get("language"),
        "column_id": None if column_id is None else str(column_id),
        "attachments": attachments,
        "unarchived_attachments": unarchived,
        "body_text": _collapse(row.get("body_text")),
    }


def truth_fields(truth: dict[str, Any]) -> dict[str, Any]:
    """A truth row in the same terms as :func:`row_fields`."""
    stamp, _ = canonical_datetime(truth["release_datetime"])
    return {**truth, "release_datetime": stamp,
            "attachments": [(a["url"], a["name"]) for a in truth["attachments"]]}


def field_errors(truth: dict[str, Any], row: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (expected, got)} for every field of ``row`` that differs from ``truth``."""
    want, got = truth_fields(truth), row_fields(row)
    errors = {name: (want[name], got[name]) for name in FIELDS if want[name] != got[name]}
    body = got["body_text"]
    if not body.startswith(_collapse(want["body_start"])):
        errors["body_start"] = (want["body_start"], body[:40])
    if not body.endswith(_collapse(want["body_end"])):
        errors["body_end"] = (want["body_end"], body[-40:])
    if got["unarchived_attachments"]:
        errors["attachments_archived"] = ("every attachment archived", got["unarchived_attachments"])
    return errors


def where_listed(site: Site, bases: dict[str, str]) -> dict[str, str]:
    """For each release URL, where a browser finds it: column, widget, and whether only by paging."""
    out: dict[str, str] = {}
    for column in site.columns.values():
        for unit in column.units:
            embedded = unit.per_page * (unit.group_size if not site.api.pagenum else 1)
            for index, release in enumerate(unit.releases):
                url = bases["portal"] + release.path
                how = "on the column page" if index < embedded else f"record {index + 1}, only by paging"
                out.setdefault(url, f"column {column.column_id} {unit.role} widget {unit.unit_id} ({how})")
    return out


def missing_report(truth: list[dict[str, Any]], rows: list[dict[str, Any]], listed: dict[str, str],
                   examples: int = 4) -> tuple[list[str], str]:
    """(missing URLs, a report of them grouped by where they were listed)."""
    archived = {row.get("url") for row in rows}
    missing = [t["url"] for t in truth if t["url"] not in archived]
    if not missing:
        return [], ""
    groups: dict[str, list[str]] = defaultdict(list)
    for url in missing:
        where = listed.get(url, "unknown")
        groups[re.sub(r"record \d+, ", "", where)].append(url)
    lines = [f"{len(missing)} of {len(truth)} listed releases not archived:"]
    for where, urls in sorted(groups.items(), key=lambda item: -len(item[1])):
        lines.append(f"  {len(urls):4d} listed in {where}; e.g. {', '.join(urls[:examples])}")
    return missing, "\n".join(lines)


def duplicates_report(rows: list[dict[str, Any]]) -> str:
    counts = Counter(row.get("url") for row in rows)
    extra = {url: n for url, n in counts.items() if n > 1}
    if not extra:
        return ""
    sample = ", ".join(f"{url} x{n}" for url, n in list(extra.items())[:4])
    return f"{len(extra)} releases archived more than once: {sample}"


def fields_report(truth: list[dict[str, Any]], rows: list[dict[str, Any]], examples: int = 3) -> tuple[int, str]:
    """(number of wrong values, a report per field with examples and the template that produced them)."""
    by_url = {row.get("url"): row for row in rows}
    wrong: dict[str, list[str]] = defaultdict(list)
    total = 0
    for expected in truth:
        row = by_url.get(expected["url"])
        if row is None:
            continue
        for name, (want, got) in field_errors(expected, row).items():
            total += 1
            template = "/".join(str(v) for v in expected["template"].values())
            wrong[name].append(f"{expected['url']} [{template}]: expected {want!r}, got {got!r}")
    if not total:
        return 0, ""
    lines = [f"{total} wrong field values in {len(by_url)} archived releases:"]
    for name, cases in sorted(wrong.items(), key=lambda item: -len(item[1])):
        lines.append(f"  {name}: {len(cases)} wrong, e.g.")
        lines += [f"      {case}" for case in cases[:examples]]
    return total, "\n".join(lines)
