"""Which questions a whole sentence answers, not a phrase of it (``asked.sentence_answers``).

    python eval/long_phrase.py                 # the shipped reader, the six domains and the seeds
    python eval/long_phrase.py --readers DIR   # each domain read by DIR/without-<domain>/

A yes/no question's phrase is its sentence (no phrase of it says yes or no). Is a question asking
for a reason or a way the same? For every answerable question of each domain (both halves; the
cases of ``eval/cases.py``, read by the shipped reader, which trained on none of them) and of the
seed article, the marked phrase (token F1 against the references) when the whole sentence is the
phrase for:

- yes/no: yes/no questions only (before 2026-12-07);
- + why: and "Why ...?";
- + how to: and "How do I ...?", "Can I ...?" (``word_lists.HOW_TO_OPENINGS``);
- + why, how to: both (the product's rule before requests came to be read so too, 2026-12-07:
  ``eval/question_forms.py``);
- + why, how: "Why" and every "How ...?" but for a quantity ("how many", "how long", ...).

No number is fitted; every half is reported, and which way each left-out domain's folds (the
other five tune halves) would choose. Prints a markdown table and writes
``eval/out/long_phrase.json``.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from cases import report, ways_table  # noqa: E402
from judge import SENTENCES, TOP_K, _for_reader, found_for, output_name, reader_run  # noqa: E402

from index.text import words  # noqa: E402
from qa.answer import extract  # noqa: E402
from qa.answer.reading import spot  # noqa: E402
from qa.evaluation.metrics import token_f1  # noqa: E402
from qa.question.asked import DEGREE_WORDS, how_to, yes_no  # noqa: E402


def _why(q: str) -> bool:
    return words(q)[:1] == ["why"]


def _how(q: str) -> bool:
    w = words(q)
    return w[:1] == ["how"] and (len(w) < 2 or w[1] not in DEGREE_WORDS)


WAYS = {
    "yes/no": yes_no,
    "+ why": lambda q: yes_no(q) or _why(q),
    "+ how to": lambda q: yes_no(q) or how_to(q),
    "+ why, how to": lambda q: yes_no(q) or _why(q) or how_to(q),
    "+ why, how": lambda q: yes_no(q) or _why(q) or _how(q),  # not "how many", "how long"
}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    domains, cases, model_for = run.domains, run.cases, run.model_for
    shipped = extract.sentence_answers
    rows: dict[tuple[str, str], list[list[float]]] = {}
    fired: dict[tuple[str, str], np.ndarray] = {}
    try:
        for c in cases:
            model = model_for(c.domain)
            found = found_for(c, model).top(TOP_K)
            ask = c.asked.ask
            passages, weights = list(found.passages), found.weights or {}
            alone = partial(spot, model, _for_reader(c))
            f1s = []
            for rule in WAYS.values():
                extract.sentence_answers = rule
                d = extract.draft(ask, passages, weights, SENTENCES, spans=found.spans, spot=alone)
                phrase = d.phrase
                f1s.append(token_f1(phrase, c.item.answers) if phrase else 0.0)
            rows.setdefault((c.domain, c.half), []).append(f1s)
            hit = np.array([float(rule(ask)) for rule in WAYS.values()])
            fired[(c.domain, c.half)] = fired.get((c.domain, c.half), 0) + hit
    finally:
        extract.sentence_answers = shipped
    lines, out = ways_table(rows, list(WAYS), domains, fired,
                            "questions whose phrase is the whole sentence")  # fmt: skip
    report(output_name("long_phrase", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
