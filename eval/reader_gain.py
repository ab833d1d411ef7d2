"""Adopt or drop the reader, by measurement: what it changes on each domain's test half.

    python eval/reader_gain.py --reader qa/answer/models/reader     # the shipped model
    python eval/reader_gain.py --reader DIR --domains squad,cuad     # any model, some domains
    python eval/reader_gain.py --readers eval/out/reader/lodo-ft    # -> reader_gain-lodo-ft
        # per domain the model trained without it (DIR/without-<domain>/; DIR/all/ for the seeds)

For the answerable questions of each domain's TEST half (the cases of ``eval/cases.py``: the
product's own fused top-10 passages), side by side, without and with the reader:

- hit@1: the first passage holds a reference answer (``contains_answer``); MRR@5 likewise (the five passages the answer step reads);
- phrase F1 / phrase contains: the marked phrase (today's heuristic, or the reader's span) against
  the references, token F1 and whether it holds one;
- shown contains: the answer text the user reads holds a reference (``holds_answer``).

The reader must never have trained on the domain it is measured on: the general model (trained on
general reading-comprehension sets only) serves every domain; ``--readers DIR`` reads each domain
with ``DIR/without-<domain>/`` (a model fine-tuned on the other domains' tune halves and pools).
Prints a markdown table and writes ``eval/out/reader_gain.{json,md}`` (``reader_gain-<DIR>`` with ``--readers DIR``).
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from calibrate import DOMAINS  # noqa: E402
from cases import shared_cases  # noqa: E402
from judge import found_for, judged, output_name, reader_of  # noqa: E402

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
        phrases = draft.phrase
        hit, rr = ranks(list(found.passages) if reader else c.passages, c.item.answers)
        rows.append((hit, rr, j.phrase_f1, contains_answer(phrases, c.item.answers), j.right))
    a = np.array(rows) if rows else np.zeros((0, 5))
    keys = ("hit@1", "MRR@5", "phrase F1", "phrase contains", "shown contains")
    return {"n": len(rows), **{k: float(a[:, i].mean()) for i, k in enumerate(keys)}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--reader", type=Path, default=ROOT / "qa" / "answer" / "models" / "reader")
    p.add_argument(
        "--readers",
        type=Path,
        default=None,
        help="a folder of leave-one-domain-out models: without-<domain>/, all/",
    )
    p.add_argument("--domains", default=",".join(DOMAINS))
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    args = p.parse_args(argv)
    domains = args.domains.split(",")
    cases = shared_cases(DOMAINS)  # every domain (the cache holds them all); the asked ones read
    shipped = Reader(args.reader)
    model_for = reader_of(args.readers, list(DOMAINS)) if args.readers else lambda d: shipped
    out = {}
    for d in [*domains, "seeds"]:
        half = [c for c in cases if c.domain == d and c.half == "test" and c.answerable]
        t0 = time.perf_counter()
        out[d] = {"without": figures(half, None), "with": figures(half, model_for(d))}
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
    name = output_name("reader_gain", args.readers)
    command = shlex.join(
        ["python", "eval/reader_gain.py", *(sys.argv[1:] if argv is None else argv)]
    )
    (args.out / f"{name}.json").write_text(json.dumps(out, indent=1) + "\n")
    (args.out / f"{name}.md").write_text(f"`{command}`\n\n{md}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
