"""``qa eval --compare OUT_A OUT_B``: the metric differences and the questions whose outcome changed."""

from __future__ import annotations

import json
from pathlib import Path

from qa.errors import QAError
from qa.evaluation import registry
from qa.evaluation.records import GOOD_OUTCOMES, ResultRecord, Summary, outcome, read_results


def load_run(out: Path) -> tuple[Summary, dict[str, ResultRecord]]:
    """A finished run's summary and its records by question id."""
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
    (sa, ra), (sb, rb) = load_run(out_a), load_run(out_b)
    lines = [
        f"A = {out_a}  ({sa.get('asked')} questions, {sa.get('mode') or '?'})",
        f"B = {out_b}  ({sb.get('asked')} questions, {sb.get('mode') or '?'})",
        "",
        f"{'metric':<22} {'A':>8} {'B':>8} {'B-A':>8}",
    ]
    for m in registry.shown():
        a, b = sa["overall"].get(m.key), sb["overall"].get(m.key)
        if a is None and b is None:
            continue
        lines.append(f"{m.name:<22} {m.format(a):>8} {m.format(b):>8} {m.delta(a, b):>8}")
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
