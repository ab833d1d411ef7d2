"""Adopt or drop the reader, by measurement: what it changes on each domain's test half.

    python eval/reader_gain.py --reader qa/answer/models/reader     # the shipped model
    python eval/reader_gain.py --reader DIR --domains squad,cuad     # any model, some domains

For the answerable questions of each domain's TEST half (the cases of ``eval/cases.py``: the
product's own fused top-10 passages), side by side, without and with the reader:

- hit@1: the first passage holds a reference answer (``contains_answer``); MRR@5 likewise (the five passages the answer step reads);
- phrase F1 / phrase contains: the marked phrase (today's heuristic, or the reader's span) against
  the references, token F1 and whether it holds one;
- shown contains: the answer text the user reads holds a reference (``holds_answer``).

The reader must never have trained on the domain it is measured on: the general model (trained on
Natural Questions, Quoref and FairytaleQA only) serves every domain. Prints a markdown table and
writes ``eval/out/reader_gain.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from calibrate import DOMAINS  # noqa: E402
from cases import shared_cases  # noqa: E402
from judge import found_for, judged  # noqa: E402

from qa.answer.reader import Reader  # noqa: E402
from qa.evaluation.metrics import contains_answer  # noqa: E402

log = logging.getLogger("reader_gain")


def ranks(passages, answers) -> tuple[float, float]:
    """hit@1 and reciprocal rank (within the 5 the answer step reads) of the first passage holding a reference."""
    for i, p in enumerate(passages[:5], 1):
        if contains_answer(p.text, answers):
            return float(i == 1), 1.0 / i
    return 0.0, 0.0


def figures(cases, reader: Reader | None) -> dict:
    rows = []
    for c in cases:
        found = found_for(c, reader)
        j = judged(c, found, reader=reader)
        draft = c.extra["draft"]
        phrases = " ".join(p.text for cit in draft.citations for p in cit.phrases)
        hit, rr = ranks(list(found.passages) if reader else c.passages, c.item.answers)
        rows.append((hit, rr, j.phrase_f1, contains_answer(phrases, c.item.answers), j.right))
    a = np.array(rows) if rows else np.zeros((0, 5))
    keys = ("hit@1", "MRR@5", "phrase F1", "phrase contains", "shown contains")
    return {"n": len(rows), **{k: float(a[:, i].mean()) for i, k in enumerate(keys)}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--reader", type=Path, default=ROOT / "qa" / "answer" / "models" / "reader")
    p.add_argument("--domains", default=",".join(DOMAINS))
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    args = p.parse_args(argv)
    domains = args.domains.split(",")
    cases = shared_cases(domains)
    reader = Reader(args.reader)
    out = {}
    for d in [*domains, "seeds"]:
        half = [c for c in cases if c.domain == d and c.half == "test" and c.answerable]
        t0 = time.perf_counter()
        out[d] = {"without": figures(half, None), "with": figures(half, reader)}
        log.info("%s: %d questions in %.0f s", d, len(half), time.perf_counter() - t0)
    head = "| domain (test half) | n | " + " | ".join(
        f"{k} off / on"
        for k in ("hit@1", "MRR@5", "phrase F1", "phrase contains", "shown contains")
    )
    lines = [head + " |", "| --- " * 7 + "|"]
    for d, r in out.items():
        cells = [
            f"{r['without'][k]:.3f} / **{r['with'][k]:.3f}**"
            for k in ("hit@1", "MRR@5", "phrase F1", "phrase contains", "shown contains")
        ]
        lines.append(f"| {d} | {r['with']['n']} | " + " | ".join(cells) + " |")
    md = "\n".join(lines)
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reader_gain.json").write_text(json.dumps(out, indent=1) + "\n")
    (args.out / "reader_gain.md").write_text(f"`python eval/reader_gain.py`\n\n{md}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
