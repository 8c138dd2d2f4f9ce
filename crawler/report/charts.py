"""The report's plots: matplotlib (Agg, no pyplot state) drawn to inline SVG.

Text stays text in the SVG (``svg.fonttype: none``), so the browser draws Chinese column names with its own fonts
and nothing is fetched: the SVG has no external reference. Each chart gets its own id salt, so the clip-path ids
of several inline SVGs never collide, and no date, so the same report is the same bytes.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context  # after choosing the backend
from matplotlib.figure import Figure

COLORS = {"declared": "#b0b7c3", "listed": "#4c78a8", "archived": "#54a24b", "failed": "#e45756",
          "skipped": "#f2a541", "bar": "#4c78a8"}
_RC: dict[Any, Any] = {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
       "font.family": ["DejaVu Sans"]}
MAX_BARS = 40

logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def _svg(fig: Figure, name: str) -> str:
    buffer = io.StringIO()
    salt: dict[Any, Any] = {"svg.hashsalt": f"report-{name}"}
    with rc_context(salt), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph ... missing from font": the browser draws those glyphs
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _figure(height: float, labels: Sequence[str] = (), width: float = 7.5, bottom: float = 0.45) -> Figure:
    """A figure whose margins fit its category labels (measured by length, not by a second drawing pass)."""
    with rc_context(_RC):
        fig = Figure(figsize=(width, height))
    longest = max((sum(2 if ord(c) > 0x2E80 else 1 for c in label) for label in labels), default=4)
    left = min(0.55, (0.35 + 0.062 * longest) / width)
    fig.subplots_adjust(left=left, right=0.86, top=1 - 0.32 / height, bottom=min(0.45, bottom / height))
    return fig


def _trim(items: Sequence[tuple[str, float]], limit: int = MAX_BARS) -> list[tuple[str, float]]:
    """The *limit* largest items; the rest summed as "others"."""
    ranked = sorted(items, key=lambda kv: -kv[1])
    if len(ranked) <= limit:
        return list(ranked)
    rest = sum(v for _, v in ranked[limit - 1:])
    return [*ranked[: limit - 1], (f"{len(ranked) - limit + 1} others", rest)]


def bars(name: str, counts: Mapping[str, float], title: str, xlabel: str = "", *, percent: bool = False,
         sort: bool = True) -> str:
    """A horizontal bar chart of one series (largest first unless *sort* is False)."""
    items = _trim(list(counts.items())) if sort else list(counts.items())
    with rc_context(_RC):
        labels = [str(k) for k, _ in items][::-1]
        fig = _figure(max(1.4, 0.28 * len(items) + 0.9), labels)
        ax = fig.add_subplot()
        values = [float(v) for _, v in items][::-1]
        bars_ = ax.barh(range(len(values)), values, color=COLORS["bar"])
        ax.set_yticks(range(len(values)), labels)
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
        if percent:
            ax.set_xlim(0, 100)
        ax.bar_label(bars_, labels=[f"{v:.0f}%" if percent else f"{v:,.0f}" for v in values], padding=2,
                     fontsize=8)
        return _svg(fig, name)


def columns_chart(rows: Sequence[Mapping[str, Any]]) -> str:
    """Releases per column: declared total, listed, archived, failed, skipped (the columns with most listed)."""
    ranked = sorted(rows, key=lambda r: -(max(r["listed"], r.get("declared_total") or 0)))[:MAX_BARS]
    series = ("declared", "listed", "archived", "failed", "skipped")
    with rc_context(_RC):
        labels = [f"{r['column_id']} {r.get('name') or ''}".strip() for r in ranked][::-1]
        fig = _figure(max(1.8, 0.55 * len(ranked) + 1.0), labels)
        ax = fig.add_subplot()
        height = 0.16
        for index, serie in enumerate(series):
            key = "declared_total" if serie == "declared" else serie
            values = [float(r.get(key) or 0) for r in ranked][::-1]
            ax.barh([y + (2 - index) * height for y in range(len(ranked))], values, height=height,
                    color=COLORS[serie], label=serie)
        ax.set_yticks(range(len(ranked)), labels)
        ax.set_title("Releases per column", loc="left")
        ax.set_xlabel("releases")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        return _svg(fig, "columns")


def months_chart(by_month: Mapping[str, int]) -> str:
    """Releases per month of their release date (a column chart in time order)."""
    items = sorted((k, v) for k, v in by_month.items() if k != "unknown")
    with rc_context(_RC):
        fig = _figure(2.8, bottom=0.75)
        ax = fig.add_subplot()
        # one filled step outline, not a patch per month: the same columns, drawn in a tenth of the time (a crawl
        # over years has a hundred months and more)
        ax.stairs([v for _, v in items], [i - 0.5 for i in range(len(items) + 1)], fill=True, color=COLORS["bar"])
        ax.set_ylim(bottom=0)
        step = max(1, len(items) // 12)
        ax.set_xticks(range(0, len(items), step), [k for k, _ in items][::step], rotation=45, ha="right")
        unknown = by_month.get("unknown", 0)
        ax.set_title("Releases per month" + (f" ({unknown} without a date)" if unknown else ""), loc="left")
        ax.set_ylabel("releases")
        return _svg(fig, "months")


def hits_chart(histogram: Sequence[Mapping[str, Any]]) -> str:
    """How many releases have a hit count in each band."""
    labels = [f"{b['from']:,}–{b['to']:,}" if b["to"] is not None else f"{b['from']:,}+" for b in histogram]
    return bars("hits", dict(zip(labels, [b["count"] for b in histogram], strict=True)), "Hit counts (浏览次数)",
                "releases", sort=False)
