"""The second hop of a two-hop question (``qa.answer.bridge``), with and without.

    python eval/bridge_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/bridge_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

"When was the British author who wrote the novel on which X was based born?": the best sentence
names the document that answers ("... by Hunter Davies"), and that document's sentence holding
the asked words the best one lacks leads. For every answerable question of each domain (both
halves; the cases of ``eval/cases.py``, read by the reader as ``Engine.find`` reads them) and of
the seed article: the marked phrase's token F1 against the references and whether the answer as
shown holds one (``shown contains``), without the hop and with it (the product); in brackets how
many answers the hop changes. Nothing is fitted (a rule of titles and words); the table says
which way each left-out domain's folds (the other five tune halves) would choose. Prints markdown
tables and writes ``eval/out/bridge_gain.json``.
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

from qa.answer import bridge, extract  # noqa: E402
from qa.answer.markers import strip_markers  # noqa: E402
from qa.evaluation.metrics import holds_answer, token_f1  # noqa: E402

WAYS = {"without": lambda question, scored, weights: scored, "with (shipped)": bridge.lead}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    shipped = extract.bridge.lead
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
                extract.bridge.lead = way
                d = extract.draft(ask, passages, weights, SENTENCES, spans=found.spans,
                                  spot=partial(_spot, model, c))  # fmt: skip
                phrase = d.phrase
                f1s.append(token_f1(phrase, c.item.answers) if phrase else 0.0)
                holds.append(float(holds_answer(strip_markers(d.text), c.item.answers)))
                texts.append(d.text)
            key = (c.domain, c.half)
            rows.setdefault(key, []).append(f1s)
            shown.setdefault(key, []).append(holds)
            changed[key] = changed.get(key, 0) + np.array([0, texts[1] != texts[0]])
    finally:
        extract.bridge.lead = shipped
    lines, out = ways_table(rows, list(WAYS), run.domains, changed, "answers the hop changes")
    lines += ["", "| domain | half | shown contains, without | with (shipped) |",
              "| --- | --- | --- | --- |"]  # fmt: skip
    for (d, h), v in sorted(shown.items()):
        a, b = np.mean(v, axis=0)
        out[f"{d}|{h}"]["shown contains"] = {"without": float(a), "with (shipped)": float(b)}
        lines.append(f"| {d} | {h} | {a:.3f} | {b:.3f} |")
    report(output_name("bridge_gain", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
