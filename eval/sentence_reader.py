"""How much the reader's span should count in choosing the answer sentence, leave-one-domain-out.

    python eval/sentence_reader.py                       # the shipped reader, the six domains
    python eval/sentence_reader.py --readers DIR         # each domain read by DIR/without-<domain>/

``qa.answer.extract.W_READER``: a sentence holding the reader's answer span gains W times the
reader's relevance of its passage (and ``W_SURE`` times how far the reader prefers that span to
no answer, squashed: the pair is fitted together). For each pair of the grid, every answerable
question of the six domains (the cases of ``eval/cases.py``: the product's own fused passages,
read by the shipped reader, which trained on none of them) is answered as ``ask`` would; two
figures per domain and half: shown contains (the answer text holds a reference,
``holds_answer``) and phrase F1 (the marked phrase against the references). For each domain left
out, the pair is the grid's with the best mean of (shown contains + phrase F1) over the OTHER
domains' tune halves; the left-out domain's test half is reported under that pair beside (0, 0)
and the shipped pair. The phrase here is marked without reading the quoted sentence alone
(``reading.spot``, chosen after W by ``eval/spot_gain.py``). Prints a markdown table and writes
``eval/out/sentence_reader.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from cases import report  # noqa: E402
from judge import SENTENCES, TOP_K, found_for, output_name, reader_run  # noqa: E402

from qa.answer import extract  # noqa: E402
from qa.answer.markers import strip_markers  # noqa: E402
from qa.evaluation.metrics import holds_answer, token_f1  # noqa: E402

GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
SURE = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)  # W_SURE: times the squashed span-over-null margin


def figures(
    cases, model_for, w: float, sure: float = 0.0
) -> dict[tuple[str, str], tuple[float, float]]:
    """(domain, half) -> (shown contains, phrase F1) with W_READER = w, W_SURE = sure."""
    aw = extract.AnswerWeights(reader=w, sure=sure)
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for c in cases:
        found = found_for(c, model_for(c.domain)).top(TOP_K)
        ask = c.asked.ask
        d = extract.draft(ask, list(found.passages), found.weights or {}, SENTENCES, aw,
                          spans=found.spans)  # fmt: skip
        phrase = d.phrase
        f1 = token_f1(phrase, c.item.answers) if phrase else 0.0
        right = holds_answer(strip_markers(d.text), c.item.answers)
        rows.setdefault((c.domain, c.half), []).append((right, f1))
    return {k: tuple(np.mean(v, axis=0)) for k, v in rows.items()}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv, seeds=False)
    domains, cases, model_for = run.domains, run.cases, run.model_for
    pairs = [(w, u) for w in GRID for u in SURE]
    grid = {pair: figures(cases, model_for, *pair) for pair in pairs}
    score = lambda pair, ds: np.mean([sum(grid[pair][(d, "tune")]) for d in ds])  # noqa: E731
    shipped = (extract.W_READER, extract.W_SURE)
    out, lines = {}, ["| domain (left out) | (W_READER, W_SURE) picked | shown contains "
                      "(0, 0) -> shipped -> picked | phrase F1 (0, 0) -> shipped -> picked |",
                      "| --- | --- | --- | --- |"]  # fmt: skip
    for d in domains:
        pick = max(pairs, key=lambda pair: score(pair, [o for o in domains if o != d]))
        (c0, f0), (cs, fs), (c1, f1) = (grid[k][(d, "test")] for k in ((0.0, 0.0), shipped, pick))
        out[d] = {"picked": pick, "contains": [c0, cs, c1], "phrase F1": [f0, fs, f1]}
        lines.append(f"| {d} | {pick} | {c0:.3f} -> {cs:.3f} -> {c1:.3f} | "
                     f"{f0:.3f} -> {fs:.3f} -> {f1:.3f} |")  # fmt: skip
    every = max(pairs, key=lambda pair: score(pair, domains))
    lines.append(f"\nAll six domains' tune halves pick (W_READER, W_SURE) = {every} (the shipped "
                 f"values: {shipped}).")  # fmt: skip
    grids = {str(k): {f"{d}|{h}": v for (d, h), v in g.items()} for k, g in grid.items()}
    report(
        output_name("sentence_reader", run.readers),
        lines,
        {"lodo": out, "all": every, "grid": grids},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
