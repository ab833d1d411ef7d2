"""The answer phrase where the reader's span lies outside the quoted sentence: heuristic or reader?

    python eval/spot_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/spot_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

When the reader's span in its passage lies outside the sentence the answer quotes, the phrase
comes from the heuristic (``qa.answer.focus``) or from the reader reading the sentence alone
(``qa.answer.reading.spot``; never for a yes/no question). For every answerable question of each
domain (both halves; the cases of ``eval/cases.py``, read by the shipped reader, which trained on
none of them) and of the seed article, seven ways side by side, token F1 of the marked phrase
against the references:

- heuristic: no sentence read alone;
- spot where none: the sentence read alone only where the heuristic marks nothing;
- typed (``phrase.typed``), with that: a "when" question whose phrase holds no date (one
  making up half its words at least) gets the heuristic's date in the same sentence;
- spot first (``phrase.SPOT_FIRST``): the sentence read alone wherever the passage span lies
  outside it, before the heuristic; then typed with it;
- ... unless the heuristic's name is nearer (``phrase.SPOT_NEARER``, the product's rule): for a
  "who" question, the heuristic's phrase where it lies nearer the question's words; and the
  same for every kind of question.

No number is fitted; every half is reported, and which way each left-out domain's
folds (the other five tune halves) would choose. Prints a markdown table and writes
``eval/out/spot_gain.json``.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

from cases import report, ways_table  # noqa: E402
from judge import SENTENCES, TOP_K, _for_reader, found_for, output_name, reader_run  # noqa: E402

from qa.answer import extract  # noqa: E402
from qa.answer.phrase import PhraseRule  # noqa: E402
from qa.answer.reading import spot  # noqa: E402
from qa.evaluation.metrics import token_f1  # noqa: E402


def _rule(**changes) -> extract.AnswerWeights:
    return extract.AnswerWeights(phrase=PhraseRule(**changes))


UNTYPED = _rule(typed=frozenset(), spot_first=False)
TYPED = _rule(spot_first=False)
FIRST = _rule(typed=frozenset(), spot_nearer=frozenset())
BOTH = _rule(spot_nearer=frozenset())
NAMES = _rule(spot_nearer=frozenset({"name"}))
ALL = _rule(spot_nearer=frozenset({"name", "time", "number", "place", "entity", None}))


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    domains, cases, model_for = run.domains, run.cases, run.model_for
    ways = (
        "heuristic",
        "spot where none",
        "typed, spot where none",
        "spot first",
        "typed, spot first",
        "... unless the heuristic's name is nearer",
        "... unless the heuristic's is nearer",
    )
    rows: dict[tuple[str, str], list[list[float]]] = {}
    for c in cases:
        model = model_for(c.domain)
        found = found_for(c, model).top(TOP_K)
        ask = c.asked.ask
        passages, weights = list(found.passages), found.weights or {}
        alone = partial(spot, model, _for_reader(c))
        drafts = [extract.draft(ask, passages, weights, SENTENCES, UNTYPED, spans=found.spans)]
        drafts += [extract.draft(ask, passages, weights, SENTENCES, aw, spans=found.spans,
                                 spot=alone) for aw in (UNTYPED, TYPED, FIRST, BOTH, NAMES, ALL)]  # fmt: skip
        f1s = []
        for d in drafts:
            phrase = d.phrase
            f1s.append(token_f1(phrase, c.item.answers) if phrase else 0.0)
        rows.setdefault((c.domain, c.half), []).append(f1s)
    lines, out = ways_table(rows, ways, domains)
    report(output_name("spot_gain", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
