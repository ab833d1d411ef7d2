"""Latency of the reader: one question and its 10 retrieved passages, scored in one call.

    python eval/reader/bench.py                          # the shipped model, 2 threads
    python eval/reader/bench.py --model eval/out/reader/runs/all/model --threads 1

50 questions (spread evenly over the prepared domains' test halves, in file order), each with
the product's fused top 10 as retrieved by ``prepare.py``; 3 warm-up calls first. Prints p50 and
p95 of ``Reader.score`` (tokenizing, windowing, the model, span decoding), the padded tokens per
call and the load average, which on a shared machine says how quiet the cores were.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import runtime  # noqa: E402
from domains import read_jsonl  # noqa: E402

OUT = HERE.parents[1] / "eval" / "out" / "reader"


def questions(n: int) -> list[tuple[str, list[str]]]:
    names = sorted(p.name for p in (OUT / "data").iterdir() if (p / "cases.jsonl.gz").is_file())
    per = {d: [c for c in read_jsonl(OUT / "data" / d / "cases.jsonl.gz")
               if c["half"] == "test" and c["kind"] == "answerable"] for d in names}  # fmt: skip
    out: list[tuple[str, list[str]]] = []
    i = 0
    while len(out) < n and any(i < len(v) for v in per.values()):
        for d in names:
            if i < len(per[d]) and len(out) < n:
                c = per[d][i]
                out.append((c["question"], [p["text"] for p in c["retrieved"][:10]]))
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, default=HERE / "model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--questions", type=int, default=50)
    args = ap.parse_args(argv)
    reader = runtime.Reader(args.model, threads=args.threads)
    qs = questions(args.questions)
    load0 = os.getloadavg()[0]
    for q, ps in qs[:3]:
        reader.score(q, ps)
    times, tokens = [], []
    for q, ps in qs:
        t0 = time.perf_counter()
        reader.score(q, ps)
        times.append((time.perf_counter() - t0) * 1000)
        enc = reader.encode(q, ps)
        tokens.append(len(enc) * max(len(e.ids) for e in enc))
    report = dict(
        model=str(args.model),
        threads=args.threads,
        questions=len(qs),
        passages_per_call=float(np.mean([len(ps) for _, ps in qs])),
        p50_ms=float(np.percentile(times, 50)),
        p95_ms=float(np.percentile(times, 95)),
        padded_tokens_per_call=float(np.mean(tokens)),
        load_average=[round(load0, 2), round(os.getloadavg()[0], 2)],
        cpus=os.cpu_count(),
    )
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
