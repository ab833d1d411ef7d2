"""Forms of question and the phrase that answers them: choices (in time, in count) and requests.

    python eval/question_forms.py                 # the shipped reader, the six domains and the seeds
    python eval/question_forms.py --readers DIR   # each domain read by DIR/without-<domain>/

- a choice ("Which is older, the Leonberger or the Basset Hound?", ``asked.options``) is answered
  by the option the quoted sentence names (``phrase.option``), not by the phrase around it;
- a choice in time ("Who was born first, A or B?", ``qa.answer.compare``) whose options the
  sentences date is answered by the earlier (or later) one, its sentence quoted first, the
  other's beside it; a choice in count ("Which genus has more species, A or B?") the same way, by
  the larger (or smaller) count the sentences give;
- a request that asks no question ("I need help with the loan simulator.", ``asked.request``) is
  answered by its whole sentence, as a yes/no question is (``asked.sentence_answers``).

For every answerable question of each domain (both halves; the cases of ``eval/cases.py``, read
by the shipped reader, which trained on none of them) and of the seed article, the marked
phrase's token F1 against the references without these rules, with each, and with all (the
product); in brackets how many questions each rule may read differently. All are rules of
grammar, nothing fitted; the table says which way each left-out domain's folds (the other five
tune halves) would choose. Prints a markdown table and writes ``eval/out/question_forms.json``.
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
from qa.answer.compare import compare, counted, direction, in_time  # noqa: E402
from qa.evaluation.metrics import token_f1  # noqa: E402
from qa.question import asked  # noqa: E402


def _no_request(question: str) -> bool:
    return asked.sentence_answers(question) and not asked.request(question)


def _no_options(question: str) -> None:
    return None


def _no_compare(question: str, scored: object) -> None:
    return None


WAYS = {  # (options, sentence_answers, compare) as ``extract.draft`` reads them
    "none": (_no_options, _no_request, _no_compare),
    "+ choices": (asked.options, _no_request, _no_compare),
    "+ choices in time": (asked.options, _no_request, in_time),
    "+ choices in count": (asked.options, _no_request, compare),
    "+ requests": (_no_options, asked.sentence_answers, _no_compare),
    "all (shipped)": (asked.options, asked.sentence_answers, compare),
}


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    shipped = extract.options, extract.sentence_answers, extract.compare
    rows: dict[tuple[str, str], list[list[float]]] = {}
    fired: dict[tuple[str, str], np.ndarray] = {}
    timed_n: dict[tuple[str, str], int] = {}
    counted_n: dict[tuple[str, str], int] = {}
    try:
        for c in run.cases:
            model = run.model_for(c.domain)
            found = found_for(c, model).top(TOP_K)
            ask, passages, weights = c.asked.ask, list(found.passages), found.weights or {}
            f1s = []
            for options, whole, compared in WAYS.values():
                extract.options, extract.sentence_answers, extract.compare = (
                    options,
                    whole,
                    compared,
                )
                d = extract.draft(ask, passages, weights, SENTENCES, spans=found.spans,
                                  spot=partial(_spot, model, c))  # fmt: skip
                phrase = d.phrase
                f1s.append(token_f1(phrase, c.item.answers) if phrase else 0.0)
            key = (c.domain, c.half)
            rows.setdefault(key, []).append(f1s)
            choice, request = asked.options(ask) is not None, asked.request(ask)
            timed = choice and direction(ask) is not None
            counts = choice and counted(ask) is not None
            hit = np.array([0, choice, choice, choice, request, choice or request], dtype=float)
            counted_n[key] = counted_n.get(key, 0) + counts
            timed_n[key] = timed_n.get(key, 0) + timed
            fired[key] = fired.get(key, 0) + hit
    finally:
        extract.options, extract.sentence_answers, extract.compare = shipped
    lines, out = ways_table(rows, list(WAYS), run.domains, fired,
                            "questions a rule reads differently")  # fmt: skip
    lines += ["", "choices in time (a choice asking for the earlier or the later): "
              + ", ".join(f"{d} {h} {n}" for (d, h), n in sorted(timed_n.items()) if n),
              "choices in count (a choice asking for more or fewer of a noun): "
              + ", ".join(f"{d} {h} {n}" for (d, h), n in sorted(counted_n.items()) if n)]  # fmt: skip
    report(output_name("question_forms", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
