"""``report.html``: one self-contained page (inline CSS, inline SVG plots, no script, no external reference) that
shows a run's report to a person: the verdict first, then the figures and the plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",system-ui,sans-serif;margin:2em auto;
max-width:62em;color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.9em}
.verdict{padding:.8em 1em;border-radius:6px;margin:1.2em 0;border-left:8px solid}
.complete{background:#eef8ec;border-color:#54a24b}.flagged{background:#fff6e5;border-color:#f2a541}
.incomplete,.interrupted{background:#fff3e0;border-color:#e8871e}.failed{background:#fdecec;border-color:#e45756}
.not_run{background:#f0f0f0;border-color:#999}
.verdict strong{font-size:1.25em;text-transform:uppercase;letter-spacing:.03em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}td,th{padding:.25em .7em;border-bottom:1px solid #eee;
text-align:left;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.short td{background:#fff3e0}
figure{margin:1em 0}figure svg{max-width:100%;height:auto}
svg text{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","DejaVu Sans",sans-serif}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(14em,1fr));gap:.5em 1.5em}
.figure-box{background:#fafafa;border:1px solid #eee;border-radius:4px;padding:.4em .8em}
.figure-box b{display:block;font-size:1.3em}
code{font-size:.9em;word-break:break-all}
"""


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


def _bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.1f} {unit}" if unit != "B" else f"{int(value)} B"
        value /= 1024
    return f"{value:.1f} GB"


def _figure(svg: str, caption: str) -> str:
    return f'<figure>{svg}<figcaption class="meta">{escape(caption)}</figcaption></figure>'


def _boxes(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="grid">' + "".join(f'<div class="figure-box">{escape(label)}<b>{value}</b></div>'
                                          for label, value in items) + "</div>"


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], numeric: set[int], classes: Sequence[str] = ()
           ) -> str:
    th = "".join(f'<th class="{"n" if i in numeric else ""}">{escape(h)}</th>' for i, h in enumerate(head))
    body = []
    for index, row in enumerate(rows):
        cls = classes[index] if index < len(classes) else ""
        tds = "".join(f'<td class="{"n" if i in numeric else ""}">{_n(v) if v is not None else "–"}</td>'
                      for i, v in enumerate(row))
        body.append(f'<tr class="{cls}">{tds}</tr>')
    return f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(report: Mapping[str, Any], *, plots: bool = True) -> str:
    """The whole page for one report (see the module docstring); *plots* False leaves the plots out."""
    verdict, releases, run = report["verdict"], report["releases"], report["run"]
    outcome = str(verdict["outcome"])
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(str(report.get('portal') or 'crawl'))} {escape(str(report.get('run_id') or ''))}: "
        f"{escape(outcome)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Crawl report: {escape(str(report.get('portal') or 'unknown portal'))}</h1>",
        f'<p class="meta">run <code>{escape(str(report.get("run_id") or "unknown"))}</code> · started '
        f'{escape(str(run.get("started_at") or "?"))} · finished {escape(str(run.get("finished_at") or "?"))} · '
        f'{run.get("duration_seconds", 0):,.1f} s · close reason {escape(str(run.get("finish_reason")))}'
        + (" · rebuilt from the outputs" if report.get("rebuilt_from_outputs") else "") + "</p>",
        f'<div class="verdict {escape(outcome)}"><strong>{escape(outcome.replace("_", " "))}</strong> '
        f'(exit status {verdict["exit_status"]})<br>{escape(str(verdict["reason"]))}',
    ]
    if verdict["details"]:
        parts.append("<ul>" + "".join(f"<li>{escape(d)}</li>" for d in verdict["details"]) + "</ul>")
    parts.append("</div>")
    if verdict.get("notes"):
        parts.append('<p class="meta">' + "<br>".join(f"Note: {escape(n)}" for n in verdict["notes"]) + "</p>")
    warc, http, rate, attachments = report["warc"], report["http"], report["rate"], report["attachments"]
    parts.append("<h2>In figures</h2>")
    parts.append(_boxes([
        ("release URLs learnt", _n(releases["learnt"])), ("archived", _n(releases["archived"])),
        ("failed", _n(releases["failed"])), ("skipped", _n(releases["skipped"])),
        ("rows written", _n(releases["rows_written"])), ("pages fetched", _n(http["responses"])),
        ("WARC bytes", _bytes(int(warc.get("file_bytes") or warc.get("response_bytes") or 0))),
        ("WARC files", _n(warc["files"])),
        ("attachments archived", _n(attachments["archived"])), ("attachments skipped", _n(attachments["skipped"])),
        ("pages / s", f"{rate['pages_per_second']:.1f}"), ("releases / s", f"{rate['releases_per_second']:.1f}"),
        ("failure rows", _n(report["failures"]["count"])), ("off-site links", _n(report["offsite"]["links"])),
    ]))
    parts += _plots(report) if plots else ['<p class="meta">Plots were switched off for this run (REPORT_PLOTS); '
                                           "<code>crawler report OUT</code> draws them.</p>"]
    parts += _columns_table(report["columns"])
    parts += _failures_table(report["failures"])
    parts.append('<p class="meta">report.json holds the same figures (schema: '
                 "crawler/report/schemas/report-v1.schema.json).</p></body></html>")
    return "\n".join(parts) + "\n"


def _plots(report: Mapping[str, Any]) -> list[str]:
    from crawler.report import charts  # matplotlib: imported only when plots are drawn

    parts = ["<h2>Plots</h2>"]
    columns = report["columns"]
    if columns:
        parts.append(_figure(charts.columns_chart(columns), "per column: the total its list declares, the "
                             "releases its lists named, and where they ended"))
    if report["by_month"]:
        parts.append(_figure(charts.months_chart(report["by_month"]), "rows of this run by release month"))
    if report["hits"]["rows_with_hits"]:
        parts.append(_figure(charts.hits_chart(report["hits"]["histogram"]), "printed hit counts of this run's rows"))
    if report["releases"]["rows_in_report"]:
        coverage = {k: 100 * v for k, v in report["field_coverage"].items()}
        parts.append(_figure(charts.bars("coverage", coverage, "Field coverage (share of rows)", "%", percent=True,
                                         sort=False), "share of this run's rows with each field"))
    for key, name, title, caption in (
            ("by_reason", "failure-reasons", "Failures by reason", "failure rows of this run"),
            ("by_host", "failure-hosts", "Failures by host", "failure rows of this run")):
        if report["failures"][key]:
            parts.append(_figure(charts.bars(name, report["failures"][key], title, "failure rows"), caption))
    skipped = report["releases"]["skipped_by_reason"]
    if skipped:
        parts.append(_figure(charts.bars("skips", skipped, "Releases skipped, by reason", "releases"),
                             "documented skips (robots.txt, scope, limits, recurring)"))
    if report["http"]["statuses"]:
        parts.append(_figure(charts.bars("statuses", report["http"]["statuses"], "HTTP statuses", "responses"),
                             "every response of the run"))
    attachments = report["attachments"]
    if attachments["archived"] or attachments["skipped"]:
        counts = {"archived": attachments["archived"], **{f"skipped: {k}": v for k, v in
                                                           attachments["skipped_by_reason"].items()}}
        parts.append(_figure(charts.bars("attachments", counts, "Attachments", "files"), "files linked from rows"))
    if report["offsite"]["by_host"]:
        parts.append(_figure(charts.bars("offsite", report["offsite"]["by_host"], "Off-site links by host",
                                         "links"), "links to other sites (not followed, not failures)"))
    return parts


def _columns_table(columns: Sequence[Mapping[str, Any]]) -> list[str]:
    if not columns:
        return []
    head = ["column", "name", "declared", "listed", "archived", "failed", "skipped", "short", "list pages failed"]
    rows = [[c["column_id"], c.get("name"), c.get("declared_total"), c["listed"], c["archived"], c["failed"],
             c["skipped"], c["short"], c["list_failures"]] for c in columns]
    classes = ["short" if c["short"] or c["failed"] or c["list_failures"] else "" for c in columns]
    return ["<h2>Columns</h2>", _table(head, rows, {2, 3, 4, 5, 6, 7, 8}, classes)]


def _failures_table(failures: Mapping[str, Any]) -> list[str]:
    if not failures["examples"]:
        return []
    rows = [[f"{e['url']}", e["reason"], e.get("http_status"), e.get("via"), e.get("detail")]
            for e in failures["examples"]]
    return ["<h2>Failures (first examples; all in failures.jsonl)</h2>",
            _table(["url", "reason", "status", "via", "detail"], rows, {2})]
