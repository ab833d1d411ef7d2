"""What a run shows people: the summary table (terminal and HTML) and report.html.

The columns and the legend come from the metric registry. The HTML report is one self-contained
file: plots are PNGs embedded as base64, and every piece of text from the dataset, the documents
or the answers is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from qa.evaluation import registry
from qa.evaluation.plots import OUTCOME_COLOURS, all_plots
from qa.evaluation.records import GOOD_OUTCOMES, ResultRecord, Summary, outcome
from qa.evaluation.registry import Metric

WORST = 25  # answers listed in the report


# ---------------------------------------------------------------------------- table


def table_columns(summary: Summary) -> list[Metric]:
    """The shown metrics that apply to some group of this summary, in registry order."""
    groups = [summary["overall"], *summary["by_category"].values()]
    return [m for m in registry.shown() if any(g.get(m.key) is not None for g in groups)]


def table_rows(summary: Summary) -> tuple[list[str], list[list[str]]]:
    """Header and rows (overall first, then each category) of the summary table."""
    # A metric that applies to no question here (e.g. no unanswerable ones) is left out.
    columns = table_columns(summary)
    header = ["category", "n", *(m.label for m in columns)]
    groups = [("overall", summary["overall"]), *summary["by_category"].items()]
    rows = [[name, str(g["n"]), *(m.format(g.get(m.key)) for m in columns)] for name, g in groups]
    return header, rows


def format_table(summary: Summary) -> str:
    """The summary as a Markdown table (readable in a terminal too)."""
    header, rows = table_rows(summary)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


# ---------------------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1150px;
 padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:.9rem} .warn{background:#fff3e0;border-left:4px solid #ff8f00;padding:.5rem 1rem}
.scroll{overflow-x:auto} table.summary{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
.summary th,.summary td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;white-space:nowrap}
.summary th{background:#f3f4f6}
.summary td:first-child,.summary th:first-child{text-align:left;white-space:normal;min-width:9rem}
.summary tr:first-child td{font-weight:600;background:#eef4fb}
.plots{display:flex;flex-wrap:wrap;gap:1rem} .plots figure{margin:0} img{max-width:100%}
figcaption{font-size:.85rem;color:#555}
.case{border:1px solid #ddd;border-radius:6px;padding:.6rem .9rem;margin:.7rem 0}
.case .head{font-size:.85rem;color:#555} .tag{display:inline-block;border-radius:3px;padding:0 .4rem;
 color:#fff;font-size:.8rem;margin-right:.4rem}
.case .q{font-weight:600;margin:.2rem 0} .lbl{color:#555;font-size:.85rem;min-width:6.5rem;display:inline-block}
.cite{font-size:.85rem;margin-left:1rem} details{font-size:.85rem;margin-left:1rem}
.gold{color:#2e7d32} .notgold{color:#c62828}
table.legend{font-size:.8rem;color:#444;border-collapse:collapse}
.legend th{text-align:left;padding:.05rem 1rem .05rem 0;white-space:nowrap;font-weight:600}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def summary_table_html(summary: Summary) -> str:
    """The summary table as HTML."""
    header, rows = table_rows(summary)
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<div class="scroll"><table class="summary"><tr>{head}</tr>{body}</table></div>'


def legend_html(summary: Summary) -> str:
    """One line per column of the summary table: what the metric measures."""
    rows = "".join(
        f"<tr><th>{_e(m.label)}</th><td>{_e(m.legend)}</td></tr>" for m in table_columns(summary)
    )
    return f"<table class='legend'>{rows}</table>"


def _badness(r: ResultRecord) -> tuple:
    order = {"answered unanswerable": 0, "wrong": 1, "wrongly refused": 2, "error": 3}
    return (order.get(outcome(r), 9), r["scores"].get("f1") or 0.0, r["id"])


def case_html(r: ResultRecord) -> str:
    """One answer in the worst-answers list."""
    o = outcome(r)
    s = r["scores"]
    facts = [f"F1 {s['f1']:.3f}"] if s.get("f1") is not None else []
    if s.get("hit5") is not None:
        facts.append(f"first gold passage at rank {s.get('gold_rank') or 'none (top 10)'}")
    if r.get("latency_ms") is not None:
        facts.append(f"{r['latency_ms']:.0f} ms")
    refs = " | ".join(r["answers"]) or "(none: the documents do not answer this)"
    parts = [
        f'<div class="case"><div class="head"><span class="tag" style="background:{OUTCOME_COLOURS[o]}">'
        f"{_e(o)}</span>{_e(r['id'])} · {_e(r['category'])} · {_e(', '.join(facts))}</div>",
        f'<div class="q">{_e(r["question"])}</div>',
        f'<div><span class="lbl">reference</span>{_e(refs)}</div>',
        f'<div><span class="lbl">answer</span>{_e(r["error"] or r["answer"])}</div>',
    ]
    if r.get("evidence"):
        parts.append(f'<div><span class="lbl">evidence</span>{_e(" … ".join(r["evidence"]))}</div>')
    for c in r.get("citations", []):
        gold = c.get("gold")
        mark = {None: "", True: " <span class='gold'>(gold)</span>"}.get(
            gold, " <span class='notgold'>(not gold)</span>"
        )
        parts.append(
            f"<details><summary>[{_e(c['n'])}] {_e(c['source'])} chars {_e(c['start'])}–{_e(c['end'])}"
            f"{mark}</summary>{_e(c['text'])}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


def render_report(summary: Summary, records: Sequence[ResultRecord]) -> str:
    """The whole report.html as a string."""
    ok = [r for r in records if not r.get("error")]
    dataset = Path(summary.get("dataset", ""))
    name = dataset.parent.name if dataset.stem == "questions" else dataset.name  # converted sets
    title = f"qa eval: {name}"
    meta = (
        f"{summary.get('asked')} of {summary.get('questions')} questions · answers: "
        f"{summary.get('mode') or '?'} · retrieval: {summary.get('retrieval')}, top {summary.get('top_k')}"
        f" · documents: {summary.get('docs')} (collection {summary.get('collection')})"
        f" · started {summary.get('started')} · {summary.get('seconds')} s"
    )
    out = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>",
        f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1><p class='meta'>{_e(meta)}</p>",
    ]
    if not summary.get("complete", True):
        out.append(
            "<p class='warn'>This run was interrupted: the figures cover only the questions asked.</p>"
        )
    out += ["<h2>Summary</h2>", summary_table_html(summary), legend_html(summary)]
    if ok:
        out.append("<h2>Plots</h2><div class='plots'>")
        out += [
            f"<figure><img alt='{_e(cap)}' src='data:image/png;base64,{png}'><figcaption>{_e(cap)}</figcaption></figure>"
            for png, cap in all_plots(summary, ok)
        ]
        out.append("</div>")
    worst = sorted((r for r in records if outcome(r) not in GOOD_OUTCOMES), key=_badness)
    out.append(f"<h2>Worst answers ({min(len(worst), WORST)} of {len(worst)} that went wrong)</h2>")
    if not worst:
        out.append("<p>None: every answer was right.</p>")
    out += [case_html(r) for r in worst[:WORST]]
    out.append("</body></html>")
    return "\n".join(out)


def write_report(path: Path, summary: Summary, records: Sequence[ResultRecord]) -> Path:
    """Write report.html for a run and return its path."""
    path.write_text(render_report(summary, records), encoding="utf-8")
    return path
