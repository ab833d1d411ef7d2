"""Yes or no to a yes/no question about two named things (``qa.answer.polar``), with and without.

    python eval/polar_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/polar_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

"Are Giuseppe Verdi and Ambroise Thomas both opera composers?": without the verdict the answer
quotes a sentence, and its focused answer (the whole sentence) never reads "yes". For every
answerable question of each domain (both halves; the cases of ``eval/cases.py``, read by the
reader as ``Engine.find`` reads them) and of the seed article: the focused answer's token F1
against the references (``Draft.phrase``: the verdict, else the marked phrase) and whether the
answer as shown holds one, without the verdict and with it (the product); in brackets how many
questions it answers yes or no. Then each domain's verdicts: how many, and how many match a
reference of "yes" or "no" (the rule's precision: what a user reads). The rule and its two
levels were read off HotpotQA's tune half, the only domain that asks such questions; its test
half is the held-out figure. Prints markdown tables and writes ``eval/out/polar_gain.json``.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from cases import report, ways_table  # noqa: E402
from judge import SENTENCES, TOP_K, _spot, found_for, output_name, reader_run  # noqa: E402

from qa.answer import extract, polar  # noqa: E402
from qa.answer.markers import strip_markers  # noqa: E402
from qa.evaluation.metrics import holds_answer, token_f1  # noqa: E402

WAYS = {"without": lambda question, scored, weights: None, "with (shipped)": polar.verdict}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    shipped = extract.polar.verdict
    rows: dict[tuple[str, str], list[list[float]]] = {}
    shown: dict[tuple[str, str], list[list[float]]] = {}
    decided: dict[tuple[str, str], np.ndarray] = {}
    right: dict[tuple[str, str], list[int]] = {}
    try:
        for c in run.cases:
            model = run.model_for(c.domain)
            found = found_for(c, model).top(TOP_K)
            ask, passages, weights = c.asked.ask, list(found.passages), found.weights or {}
            f1s, holds, said = [], [], []
            for way in WAYS.values():
                extract.polar.verdict = way
                d = extract.draft(ask, passages, weights, SENTENCES, spans=found.spans,
                                  spot=partial(_spot, model, c))  # fmt: skip
                f1s.append(token_f1(d.phrase, c.item.answers) if d.phrase else 0.0)
                holds.append(float(holds_answer(strip_markers(d.text), c.item.answers)))
                said.append(d.verdict)
            key = (c.domain, c.half)
            rows.setdefault(key, []).append(f1s)
            shown.setdefault(key, []).append(holds)
            decided[key] = decided.get(key, 0) + np.array([v is not None for v in said])
            if said[1] is not None:
                gold = {a.strip().lower() for a in c.item.answers}
                right.setdefault(key, []).append(int(polar.SAID[said[1]].lower() in gold))
    finally:
        extract.polar.verdict = shipped
    lines, out = ways_table(rows, list(WAYS), run.domains, decided, "questions answered yes/no")
    lines += ["", "| domain | half | shown contains, without | with (shipped) | verdicts | right |",
              "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for (d, h), v in sorted(shown.items()):
        a, b = np.mean(v, axis=0)
        r = right.get((d, h), [])
        out[f"{d}|{h}"]["shown contains"] = {"without": float(a), "with (shipped)": float(b)}
        out[f"{d}|{h}"]["verdicts"] = {"n": len(r), "right": int(sum(r))}
        lines.append(f"| {d} | {h} | {a:.3f} | {b:.3f} | {len(r)} | {sum(r)} |")
    report(output_name("polar_gain", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
