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
        stamp, precision = row.get("release_datetime"), row["release_time_precision"]  # compared as written
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
    """A truth row in the same terms as :func:`row_fields`: its v1-style datetime (``…T11:16+08:00`` for minutes)
    written as schema 2.0 writes it (always seconds, ``…T11:16:00+08:00``; the precision is its own field)."""
    stamp, _ = canonical_datetime(truth["release_datetime"])
    return {**truth, "release_datetime": stamp,
            "attachments": [(a["url"], a["name"]) for a in truth["attachments"]]}


def _attachment_diff(want: list[tuple[str, str]], got: list[tuple[str, str]] | None) -> tuple[Any, Any]:
    """A short (expected, got) for attachment lists: what is missing, unexpected, or only out of order."""
    if got is None:
        return want, None
    missing = [pair for pair in want if pair not in got]
    unexpected = [pair for pair in got if pair not in want]
    if not missing and not unexpected:
        return "page order " + str([name for _, name in want]), str([name for _, name in got])
    return f"{len(want)} files, missing {missing[:2]}", f"{len(got)} files, unexpected {unexpected[:2]}"


def field_errors(truth: dict[str, Any], row: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (expected, got)} for every field of ``row`` that differs from ``truth``."""
    want, got = truth_fields(truth), row_fields(row)
    errors = {name: (want[name], got[name]) for name in FIELDS if want[name] != got[name]}
    if "attachments" in errors:
        errors["attachments"] = _attachment_diff(want["attachments"], got["attachments"])
    body = got["body_text"]
    if not body.startswith(_collapse(want["body_start"])):
        errors["body_start"] = (want["body_start"], body[:40])
    if not body.endswith(_collapse(want["body_end"])):
        errors["body_end"] = (want["body_end"], body[-40:])
    if got["unarchived_attachments"]:
        errors["attachments_archived"] = ("every attachment archived", got["unarchived_attachments"])
    return errors


def where_listed(site: Site, bases: dict[str, str]) -> dict[str, str]:
    """For each release URL, where a browser finds it (column, widget, first page or only by paging) and what on
    the way is malformed (a record link in the widget, an attachment or image link on the release page)."""
    out: dict[str, str] = {}
    for column in site.columns.values():
        for unit in column.units:
            embedded = unit.per_page * (unit.group_size if not site.api.pagenum else 1)
            bad_record = ""
            if unit.bad_records:
                bad_record = f"; the widget also holds a malformed record link {next(iter(unit.bad_records.values()))}"
            for index, release in enumerate(unit.releases):
                url = bases["portal"] + release.path
                how = "on the column page" if index < embedded else f"record {index + 1}, only by paging"
                own = ""
                if release.bad_attachment_hrefs:
                    own = f"; the release page links a malformed attachment {release.bad_attachment_hrefs[0]}"
                elif release.style.bad_image:
                    own = "; the release page has a malformed <img src> (http://[bad/img/1.jpg)"
                out.setdefault(url, f"column {column.column_id} {unit.role} widget {unit.unit_id} ({how}{bad_record})"
                                    f"{own}")
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


def fields_report(truth: list[dict[str, Any]], rows: list[dict[str, Any]]) -> tuple[int, str]:
    """(number of wrong values, a report per field and per template, one example each).

    The template signature is info/layout/visible date/PubDate/count/charset (see model.ArticleStyle), so each
    group is one cause: e.g. ``gk-table/zoom/date/with-time/none/utf-8`` is "date-only table, time in PubDate".
    """
    by_url = {row.get("url"): row for row in rows}
    wrong: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    compared = total = 0
    for expected in truth:
        row = by_url.get(expected["url"])
        if row is None:
            continue
        compared += 1
        template = "/".join(str(v) for v in expected["template"].values())
        for name, (want, got) in field_errors(expected, row).items():
            total += 1
            wrong[name][template].append(f"{expected['url']}: expected {want!r}, got {got!r}")
    if not total:
        return 0, ""
    lines = [f"{total} wrong field values in {compared} archived releases (by field, then by template):"]
    for name, groups in sorted(wrong.items(), key=lambda item: -sum(map(len, item[1].values()))):
        lines.append(f"  {name}: {sum(map(len, groups.values()))} wrong")
        for template, cases in sorted(groups.items(), key=lambda item: -len(item[1])):
            lines.append(f"    {len(cases):4d} [{template}] e.g. {cases[0]}")
    return total, "\n".join(lines)
