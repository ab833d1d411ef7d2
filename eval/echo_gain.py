"""A phrase of the question's own words gives way to its sentence (``qa.answer.phrase.echoes``).

    python eval/echo_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/echo_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

"What is PHEIC?" marked "PHEIC" in "... a 'Public Health Emergency of International Concern'
(PHEIC) ...": the phrase repeats the question and tells the reader nothing. For every answerable
question of each domain (both halves; the cases of ``eval/cases.py``, read by the reader as
``Engine.find`` reads them) and of the seed article: the focused answer's token F1 (``Draft.phrase``)
and whether the answer as shown holds a reference, without the rule and with it (the product); in
brackets how many answers it changes; and which way each left-out domain's folds (the other five
tune halves) would choose. A rule, nothing fitted. Prints markdown tables and writes
``eval/out/echo_gain.json``.
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

from qa.answer import extract  # noqa: E402
from qa.answer.markers import strip_markers  # noqa: E402
from qa.answer.phrase import echoes  # noqa: E402
from qa.evaluation.metrics import holds_answer, token_f1  # noqa: E402

WAYS = {"without": lambda question, phrases: False, "with (shipped)": echoes}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    rows: dict[tuple[str, str], list[list[float]]] = {}
    shown: dict[tuple[str, str], list[list[float]]] = {}
    changed: dict[tuple[str, str], np.ndarray] = {}
    try:
        for c in run.cases:
            model = run.model_for(c.domain)
            found = found_for(c, model).top(TOP_K)
            ask, passages, weights = c.asked.ask, list(found.passages), found.weights or {}
            f1s, holds, texts = [], [], []
            for way in WAYS.values():
                extract.echoes = way
                d = extract.draft(ask, passages, weights, SENTENCES, spans=found.spans,
                                  spot=partial(_spot, model, c))  # fmt: skip
                f1s.append(token_f1(d.phrase, c.item.answers) if d.phrase else 0.0)
                holds.append(float(holds_answer(strip_markers(d.text), c.item.answers)))
                texts.append(d.text)
            key = (c.domain, c.half)
            rows.setdefault(key, []).append(f1s)
            shown.setdefault(key, []).append(holds)
            changed[key] = changed.get(key, 0) + np.array([0, texts[1] != texts[0]])
    finally:
        extract.echoes = echoes
    lines, out = ways_table(rows, list(WAYS), run.domains, changed, "answers the rule changes")
    lines += ["", "| domain | half | shown contains, without | with (shipped) |",
              "| --- | --- | --- | --- |"]  # fmt: skip
    for (d, h), v in sorted(shown.items()):
        a, b = np.mean(v, axis=0)
        out[f"{d}|{h}"]["shown contains"] = {"without": float(a), "with (shipped)": float(b)}
        lines.append(f"| {d} | {h} | {a:.3f} | {b:.3f} |")
    report(output_name("echo_gain", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
