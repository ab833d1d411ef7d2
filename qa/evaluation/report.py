"""What an evaluation run shows people: the summary table, ``--compare`` text and report.html.

The HTML report is one self-contained file: plots are matplotlib PNGs embedded as base64, and
every piece of text from the dataset, the documents or the answers is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from qa.errors import QAError

GOOD_OUTCOMES = {"correct", "refused (right)"}
OUTCOME_COLOURS = {
    "correct": "#2e7d32",
    "refused (right)": "#81c784",
    "wrong": "#c62828",
    "wrongly refused": "#ef9a9a",
    "answered unanswerable": "#ff8f00",
    "error": "#616161",
}
TABLE_COLUMNS = [
    ("n", "n"),
    ("contains", "contains"),
    ("em", "EM"),
    ("f1", "F1"),
    ("refusal_correct", "refusal acc"),
    ("unanswerable_refused", "unans. refused"),
    ("hit1", "hit@1"),
    ("hit5", "hit@5"),
    ("mrr10", "MRR@10"),
    ("citation_precision", "cit. P"),
    ("citation_recall", "cit. R"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
]
JUDGE_COLUMNS = [("judge_correct", "judged correct"), ("judge_faithful", "judged faithful")]
COMPARED = [
    ("contains", "contains answer"),
    ("em", "exact match"),
    ("f1", "token F1"),
    ("refusal_correct", "refusal accuracy"),
    ("unanswerable_refused", "unanswerable refused"),
    ("hit1", "hit@1"),
    ("hit5", "hit@5"),
    ("mrr10", "MRR@10"),
    ("citation_precision", "citation precision"),
    ("citation_recall", "citation recall"),
    *JUDGE_COLUMNS,
    ("latency_p50_ms", "latency p50 ms"),
    ("latency_p95_ms", "latency p95 ms"),
]
WORST = 25  # answers listed in the report


def outcome(record: dict) -> str:
    """A one-word verdict on a result record: correct, wrong, wrongly refused..."""
    if record.get("error"):
        return "error"
    if record["answers"]:
        if record["refused"]:
            return "wrongly refused"
        return "correct" if record["scores"].get("contains") else "wrong"
    return "refused (right)" if record["refused"] else "answered unanswerable"


def fmt(v) -> str:
    """A metric value for a table: 3 decimals for scores, whole numbers for counts and ms."""
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if v <= 1.0 else f"{v:.0f}"
    return str(v)


# ---------------------------------------------------------------------------- text


def table_rows(summary: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows (overall first, then each category) of the summary table."""
    columns = TABLE_COLUMNS + [c for c in JUDGE_COLUMNS if c[0] in summary["overall"]]
    header = ["category"] + [label for _, label in columns]
    groups = [("overall", summary["overall"]), *summary["by_category"].items()]
    rows = [[name] + [fmt(g.get(key)) for key, _ in columns] for name, g in groups]
    # A metric that applies to no question here (e.g. no unanswerable ones) is left out.
    keep = [i for i in range(len(header)) if i < 2 or any(r[i] != "–" for r in rows)]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows]


def format_table(summary: dict) -> str:
    """The summary as a Markdown table (readable in a terminal too)."""
    header, rows = table_rows(summary)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def _load_run(out: Path) -> tuple[dict, dict[str, dict]]:
    from qa.evaluate import read_results

    path = Path(out) / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(summary, dict) or not isinstance(summary.get("overall"), dict):
            raise ValueError("no 'overall' metrics")
    except (OSError, ValueError) as exc:
        raise QAError(
            f"{path} is missing or not a qa eval summary ({exc}); run qa eval --out {out} first"
        ) from None
    return summary, {r["id"]: r for r in read_results(Path(out) / "results.jsonl")}


def compare(out_a: Path, out_b: Path) -> str:
    """The metric differences between two runs and the questions whose outcome changed."""
    (sa, ra), (sb, rb) = _load_run(out_a), _load_run(out_b)
    lines = [
        f"A = {out_a}  ({sa.get('asked')} questions, {sa.get('mode') or '?'})",
        f"B = {out_b}  ({sb.get('asked')} questions, {sb.get('mode') or '?'})",
        "",
        f"{'metric':<22} {'A':>8} {'B':>8} {'B-A':>8}",
    ]
    for key, label in COMPARED:
        a, b = sa["overall"].get(key), sb["overall"].get(key)
        if a is None and b is None:
            continue
        delta = f"{b - a:+.3f}" if a is not None and b is not None else "–"
        if delta != "–" and key.endswith("_ms"):
            delta = f"{b - a:+.0f}"
        lines.append(f"{label:<22} {fmt(a):>8} {fmt(b):>8} {delta:>8}")
    changed = []
    for qid in [q for q in ra if q in rb]:
        oa, ob = outcome(ra[qid]), outcome(rb[qid])
        if oa != ob:
            sign = "+" if ob in GOOD_OUTCOMES else "-" if oa in GOOD_OUTCOMES else "~"
            changed.append(f"{sign} {qid}: {oa} -> {ob}: {ra[qid]['question'][:90]}")
    better = sum(c.startswith("+") for c in changed)
    worse = sum(c.startswith("-") for c in changed)
    lines += [
        "",
        f"questions whose outcome changed: {len(changed)} ({better} better, {worse} worse)",
    ]
    lines += [f"  {c}" for c in sorted(changed)]
    only_a, only_b = len(set(ra) - set(rb)), len(set(rb) - set(ra))
    if only_a or only_b:
        lines.append(f"questions only in A: {only_a}, only in B: {only_b}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- plots


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot()


def plot_by_category(summary: dict) -> str:
    """Grouped bars: the main scores for each category and overall."""
    metrics = [
        ("contains", "contains answer"),
        ("f1", "token F1"),
        ("refusal_correct", "refusal accuracy"),
        ("hit5", "hit@5"),
        ("citation_precision", "citation precision"),
    ]
    groups = [("overall", summary["overall"]), *summary["by_category"].items()]
    groups = groups[:25]
    height = 1.2 + 0.15 * len(metrics) * len(groups)
    fig, ax = _figure(9, min(height, 24))
    bar = 0.8 / len(metrics)
    colours = ["#1565c0", "#64b5f6", "#ff8f00", "#2e7d32", "#8e24aa"]
    for j, (key, label) in enumerate(metrics):
        ys = [i + j * bar for i in range(len(groups))]
        xs = [g.get(key) or 0.0 for _, g in groups]
        ax.barh(ys, xs, height=bar, label=label, color=colours[j])
    ax.set_yticks([i + 0.4 - bar / 2 for i in range(len(groups))])
    ax.set_yticklabels([f"{name} (n={g['n']})" for name, g in groups])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("score (0-1)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    return _png(fig)


def plot_outcomes(summary: dict, records: Sequence[dict]) -> str:
    """Stacked bars: how each category's questions ended (correct, wrong, refused...)."""
    cats = ["overall", *summary["by_category"]][:25]
    counts = {c: Counter() for c in cats}
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


def plot_ranks(records: Sequence[dict]) -> str:
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


def plot_latency(summary: dict, records: Sequence[dict]) -> str:
    """Histogram of answer latency with the p50 and p95 marked."""
    values = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    fig, ax = _figure(5.6, 3.2)
    ax.hist(values, bins=min(40, max(5, len(values) // 4)), color="#64b5f6", edgecolor="#1565c0")
    for key, label, style in (("latency_p50_ms", "p50", "-"), ("latency_p95_ms", "p95", "--")):
        v = summary["overall"].get(key)
        if v is not None:
            ax.axvline(v, color="#c62828", linestyle=style, label=f"{label} {v:.0f} ms")
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.legend(frameon=False)
    return _png(fig)


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

LEGEND = [
    (
        "contains",
        "a reference answer occurs in the answer (SQuAD normalisation); answerable questions",
    ),
    ("EM / F1", "exact match and token F1 against the best reference; answerable questions"),
    ("refusal acc", "refused exactly when the documents do not answer (answers = [])"),
    ("unans. refused", "share of the unanswerable questions that were refused"),
    (
        "hit@1 / hit@5 / MRR@10",
        "rank of the first gold passage: one containing an evidence string (or from a gold source)",
    ),
    (
        "cit. P / cit. R",
        "cited passages that are gold / gold evidence (or sources) covered by the citations",
    ),
    ("p50 / p95 ms", "time of one ask, question to answer"),
]


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def summary_table_html(summary: dict) -> str:
    """The summary table as HTML."""
    header, rows = table_rows(summary)
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<div class="scroll"><table class="summary"><tr>{head}</tr>{body}</table></div>'


def _badness(r: dict) -> tuple:
    order = {"answered unanswerable": 0, "wrong": 1, "wrongly refused": 2, "error": 3}
    return (order.get(outcome(r), 9), r["scores"].get("f1") or 0.0, r["id"])


def case_html(r: dict) -> str:
    """One answer in the worst-answers list."""
    o = outcome(r)
    s = r["scores"]
    facts = [f"F1 {fmt(s.get('f1'))}"] if s.get("f1") is not None else []
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


def render_report(summary: dict, records: Sequence[dict]) -> str:
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
    out += ["<h2>Summary</h2>", summary_table_html(summary), "<table class='legend'>"]
    out += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in LEGEND]
    out.append("</table>")
    if ok:
        plots = [
            (plot_by_category(summary), "Scores by category"),
            (plot_outcomes(summary, ok), "How the questions ended, by category"),
            (plot_ranks(ok), "Retrieval: rank of the first gold passage"),
            (plot_latency(summary, ok), "Latency distribution"),
        ]
        out.append("<h2>Plots</h2><div class='plots'>")
        out += [
            f"<figure><img alt='{_e(cap)}' src='data:image/png;base64,{png}'><figcaption>{_e(cap)}</figcaption></figure>"
            for png, cap in plots
        ]
        out.append("</div>")
    worst = sorted((r for r in records if outcome(r) not in GOOD_OUTCOMES), key=_badness)
    out.append(f"<h2>Worst answers ({min(len(worst), WORST)} of {len(worst)} that went wrong)</h2>")
    if not worst:
        out.append("<p>None: every answer was right.</p>")
    out += [case_html(r) for r in worst[:WORST]]
    out.append("</body></html>")
    return "\n".join(out)


def write_report(path: Path, summary: dict, records: Sequence[dict]) -> Path:
    """Write report.html for a run and return its path."""
    path.write_text(render_report(summary, records), encoding="utf-8")
    return path
