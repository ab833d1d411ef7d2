"""The answer phrase where the reader's span lies outside the quoted sentence: heuristic or reader?

    python eval/spot_gain.py                 # the shipped reader, the six domains and the seeds
    python eval/spot_gain.py --readers DIR   # each domain read by DIR/without-<domain>/

When the reader's span in its passage lies outside the sentence the answer quotes, the phrase is
marked by the heuristic (``qa.answer.focus``), and where that marks nothing, by the reader
reading the sentence alone (``qa.answer.reading.spot``; never for a yes/no question). For every
answerable question of each domain (both halves; the cases of ``eval/cases.py``, read by the
shipped reader, which trained on none of them) and of the seed article, three ways side by side,
token F1 of the marked phrase against the references:

- heuristic: no sentence read alone;
- spot where none: the product's rule, the sentence read alone where the heuristic marks nothing;
- spot first: the sentence read alone wherever the passage span lies outside it, before the
  heuristic.

No constant is fitted; every half is reported. Prints a markdown table and writes
``eval/out/spot_gain.json``.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from calibrate import DOMAINS  # noqa: E402
from cases import report, shared_cases  # noqa: E402
from judge import SENTENCES, TOP_K, _for_reader, found_for, output_name, reader_of  # noqa: E402

from qa.answer import extract  # noqa: E402
from qa.answer.reading import ReadSpan, spot  # noqa: E402
from qa.evaluation.metrics import token_f1  # noqa: E402
from qa.question.asked import yes_no  # noqa: E402
from qa.types import Span  # noqa: E402


def _spot_first(model, c, found, ask: str) -> extract.Draft:
    """The draft with the sentence's own span put before the heuristic's phrase."""
    passages, weights = list(found.passages), found.weights or {}
    d = extract.draft(ask, passages, weights, SENTENCES, spans=found.spans)
    if not d.citations or yes_no(ask):
        return d
    best, sentence = d.citations[0].passage, d.citations[0].sentences[0]
    if any(s.passage_id == best.id and sentence.start <= s.span.start <= s.span.end <= sentence.end
           for s in found.spans):  # fmt: skip
        return d  # the passage span is the phrase already
    at = spot(model, _for_reader(c), sentence.text)
    if not at:
        return d
    own = ReadSpan(best.id, Span(sentence.start + at[0], sentence.start + at[1],
                                 sentence.text[at[0] : at[1]]), 0.0)  # fmt: skip
    return extract.draft(ask, passages, weights, SENTENCES, spans=(*found.spans, own))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--domains", default=",".join(DOMAINS))
    p.add_argument("--readers", type=Path, default=None, help="leave-one-domain-out models")
    args = p.parse_args(argv)
    domains = args.domains.split(",")
    model_for = reader_of(args.readers, list(DOMAINS))
    cases = shared_cases(DOMAINS)
    cases = [c for c in cases if c.domain in (*domains, "seeds") and c.kind == "answerable"
             and c.item.answers]  # fmt: skip
    ways = ("heuristic", "spot where none", "spot first")
    rows: dict[tuple[str, str], list[list[float]]] = {}
    for c in cases:
        model = model_for(c.domain)
        found = found_for(c, model).top(TOP_K)
        ask = c.asked.ask
        passages, weights = list(found.passages), found.weights or {}
        drafts = (
            extract.draft(ask, passages, weights, SENTENCES, spans=found.spans),
            extract.draft(ask, passages, weights, SENTENCES, spans=found.spans,
                          spot=partial(spot, model, _for_reader(c))),
            _spot_first(model, c, found, ask),
        )  # fmt: skip
        f1s = []
        for d in drafts:
            phrase = " ".join(p.text for cit in d.citations for p in cit.phrases)
            f1s.append(token_f1(phrase, c.item.answers) if phrase else 0.0)
        rows.setdefault((c.domain, c.half), []).append(f1s)
    lines = ["| domain | half | n | " + " | ".join(f"phrase F1, {w}" for w in ways) + " |",
             "| --- | --- | --- | " + "--- | " * len(ways)]  # fmt: skip
    out = {}
    for (d, h), v in sorted(rows.items()):
        m = np.mean(v, axis=0)
        out[f"{d}|{h}"] = dict(zip(ways, map(float, m), strict=True)) | {"n": len(v)}
        lines.append(f"| {d} | {h} | {len(v)} | " + " | ".join(f"{x:.3f}" for x in m) + " |")
    report(output_name("spot_gain", args.readers), lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
