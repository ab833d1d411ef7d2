"""The passages' order with the reader: fit ``RANK_RELEVANCE`` and ``RANK_MARGIN``, leave-one-domain-out.

    python eval/rerank.py                  # the shipped reader, the six domains and the seeds
    python eval/rerank.py --readers DIR    # each domain read by DIR/without-<domain>/

With the reader on, the passages the answer step reads (the fused top ``QA_TOP_K`` = 5) are put in
the order of ``qa.answer.reading.rank``: the fused score relative to the best passage's, plus
``RANK_RELEVANCE`` times the reader's relevance logit and ``RANK_MARGIN`` times its squashed
span-over-null margin. Both are chosen on a grid for each domain left out in turn, on the other
five domains' TUNE halves (each domain weighing the same), by hit@1: the first passage holds a
reference answer (``contains_answer``, as ``eval/reader_gain.py`` counts it); the left-out
domain's TEST half is measured. Also shown: hit@1 by gold document (the first passage comes from
a document the reference names). The shipped reader trained on none of these domains. Prints
markdown tables and writes ``eval/out/rerank.json``.
"""

from __future__ import annotations

import sys
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from cases import report  # noqa: E402
from judge import TOP_K, _for_reader, output_name, reader_run  # noqa: E402

from qa.answer import reading  # noqa: E402
from qa.evaluation.metrics import contains_answer  # noqa: E402

RELEVANCE = (0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1)
MARGIN = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)


def first_flags(cases_read, relevance: float, margin: float, key: str) -> float:
    """The share of cases whose first passage, in this order, holds a reference (``key`` =
    "answer") or comes from a gold document ("gold")."""
    if not cases_read:
        return 0.0
    firsts = [
        flags[key][reading.rank(ps, rs, relevance, margin)[0]] for ps, rs, flags in cases_read
    ]
    return float(np.mean(firsts))


def pick(read: dict, fit_on: list[str], key: str) -> tuple[float, float]:
    """The grid point with the best mean hit@1 over the tune halves of ``fit_on`` (each domain
    weighing the same); ties go to the smaller constants."""

    def tuned(ab: tuple[float, float]) -> float:
        return float(np.mean([first_flags(read.get((o, "tune"), []), *ab, key) for o in fit_on]))

    return max(product(RELEVANCE, MARGIN), key=lambda ab: (tuned(ab), -ab[0], -ab[1]))


def main(argv: list[str] | None = None) -> int:
    run = reader_run(__doc__, argv)
    domains, model_for = run.domains, run.model_for
    read: dict[tuple[str, str], list] = {}
    for c in run.cases:
        ps = c.passages[:TOP_K]
        if not ps:
            continue
        rs = model_for(c.domain).score(_for_reader(c), [q.text for q in ps])
        flags = {
            "answer": [bool(contains_answer(q.text, c.item.answers)) for q in ps],
            "gold": [q.source in c.item.sources for q in ps]
            if c.item.sources
            else [False] * len(ps),
        }
        read.setdefault((c.domain, c.half), []).append((ps, rs, flags))
    out, lines = {}, []
    for key in ("answer", "gold"):
        lines += [f"\n### hit@1 by {key}, test half, constants fitted without the domain\n",
                  "| left out | fused | picked (relevance, margin) | with the reader |",
                  "| --- | --- | --- | --- |"]  # fmt: skip
        for d in [*domains, "seeds"]:
            best = pick(read, [o for o in domains if o != d], key)
            test = read.get((d, "test"), [])
            before, after = first_flags(test, 0, 0, key), first_flags(test, *best, key)
            out[f"{key}|{d}"] = {"n": len(test), "fused": before, "picked": best, "reader": after}
            lines.append(f"| {d} | {before:.3f} | {best} | {after:.3f} |")
        final = pick(read, domains, key)
        out[f"{key}|all six"] = {"picked": final}
        lines.append(f"\nFitted on all six tune halves: {final}; shipped: "
                     f"({reading.RANK_RELEVANCE}, {reading.RANK_MARGIN}).")  # fmt: skip
    report(output_name("rerank", run.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
