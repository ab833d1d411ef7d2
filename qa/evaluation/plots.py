"""The plots of report.html, as base64 PNGs (matplotlib's object API: no GUI backend, no pyplot).

Which scores the by-category plot shows is the registry's ``plotted`` flag.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Sequence

from qa.evaluation import registry
from qa.evaluation.records import ResultRecord, Summary, outcome

OUTCOME_COLOURS = {
    "correct": "#2e7d32",
    "refused (right)": "#81c784",
    "wrong": "#c62828",
    "not sure": "#90a4ae",
    "wrongly refused": "#ef9a9a",
    "not sure (unanswerable)": "#cfd8dc",
    "answered unanswerable": "#ff8f00",
    "error": "#616161",
}
BAR_COLOURS = ["#1565c0", "#64b5f6", "#ff8f00", "#2e7d32", "#8e24aa", "#6d4c41", "#00838f"]
MAX_GROUPS = 25  # categories shown in a plot


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float):
    # Imported here: matplotlib takes ~0.5 s to load and only a finished run draws.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot()


def plot_by_category(summary: Summary) -> str:
    """Grouped bars: the plotted scores for each category and overall."""
    plotted = [m for m in registry.shown() if m.plotted]
    groups = [("overall", summary["overall"]), *summary["by_category"].items()][:MAX_GROUPS]
    height = 1.2 + 0.15 * len(plotted) * len(groups)
    fig, ax = _figure(9, min(height, 24))
    bar = 0.8 / max(1, len(plotted))
    for j, m in enumerate(plotted):
        ys = [i + j * bar for i in range(len(groups))]
        xs = [g.get(m.key) or 0.0 for _, g in groups]
        ax.barh(ys, xs, height=bar, label=m.name, color=BAR_COLOURS[j % len(BAR_COLOURS)])
    ax.set_yticks([i + 0.4 - bar / 2 for i in range(len(groups))])
    ax.set_yticklabels([f"{name} (n={g['n']})" for name, g in groups])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("score (0-1)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    return _png(fig)


def plot_outcomes(summary: Summary, records: Sequence[ResultRecord]) -> str:
    """Stacked bars: how each category's questions ended (correct, wrong, refused...)."""
    cats = ["overall", *summary["by_category"]][:MAX_GROUPS]
    counts: dict[str, Counter] = {c: Counter() for c in cats}
    for r in records:
        o = outcome(r)
        counts["overall"][o] += 1
        if r["category"] in counts:
            counts[r["category"]][o] += 1
    fig, ax = _figure(9, min(1.0 + 0.4 * len(cats), 12))
    left = [0.0] * len(cats)
    for name, colour in OUTCOME_COLOURS.items():
        share = [counts[c][name] / max(1, sum(counts[c].values())) for c in cats]
        if any(share):
            ax.barh(range(len(cats)), share, left=left, color=colour, label=name)
            left = [a + b for a, b in zip(left, share, strict=True)]
    ax.set_yticks(range(len(cats)))
    ax.set_yticklabels(cats)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of questions")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    return _png(fig)


def plot_ranks(records: Sequence[ResultRecord]) -> str:
    """Histogram of the rank of the first gold passage (answerable questions with gold)."""
    ranks = [r["scores"].get("gold_rank") for r in records if r["scores"].get("hit5") is not None]
    labels = [str(i) for i in range(1, 11)] + ["none"]
    counts = [sum(1 for x in ranks if x == i) for i in range(1, 11)] + [
        sum(1 for x in ranks if x is None)
    ]
    fig, ax = _figure(5.6, 3.2)
    bars = ax.bar(labels, counts, color=["#1565c0"] * 10 + ["#c62828"])
    for b, c in zip(bars, counts, strict=True):
        if c:
            ax.annotate(
                f"{c / max(1, len(ranks)):.0%}",
                (b.get_x() + b.get_width() / 2, c),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax.set_xlabel("rank of the first gold passage (none = not in the top 10)")
    ax.set_ylabel("questions")
    ax.set_title(f"retrieval ranks, {len(ranks)} answerable questions", fontsize=10)
    return _png(fig)


def plot_latency(summary: Summary, records: Sequence[ResultRecord]) -> str:
    """Histogram of answer latency with the latency metrics (p50, p95) marked."""
    values = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    fig, ax = _figure(5.6, 3.2)
    ax.hist(values, bins=min(40, max(5, len(values) // 4)), color="#64b5f6", edgecolor="#1565c0")
    lines = [m for m in registry.shown() if m.unit == "ms"]
    for m, style in zip(lines, ["-", "--", ":", "-."], strict=False):
        v = summary["overall"].get(m.key)
        if v is not None:
            ax.axvline(v, color="#c62828", linestyle=style, label=f"{m.label}: {m.format(v)}")
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.legend(frameon=False)
    return _png(fig)


def all_plots(summary: Summary, records: Sequence[ResultRecord]) -> list[tuple[str, str]]:
    """Every plot of the report as (base64 PNG, caption)."""
    return [
        (plot_by_category(summary), "Scores by category"),
        (plot_outcomes(summary, records), "How the questions ended, by category"),
        (plot_ranks(records), "Retrieval: rank of the first gold passage"),
        (plot_latency(summary, records), "Latency distribution"),
    ]
