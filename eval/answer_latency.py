"""Extractive answer latency with the reader on and off, side by side in one run.

    python eval/answer_latency.py                 # the seed questions, 3 rounds, 2 threads

Indexes the seed folder once (``.qa_store/latency``), then asks every seed question (answerable
and not) through ``Engine.ask`` with ``QA_READER`` off and on, interleaved question by question
so that both see the same machine load. Prints p50/p95 of the whole ask (question reading,
retrieval, the reader, the answer, the decision) and the ratio on/off, with the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

import numpy as np  # noqa: E402

from index.offline import quiet  # noqa: E402
from qa import ingest  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluation.dataset import load_dataset  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    quiet()
    base = dict(store_dir=ROOT / ".qa_store" / "latency", docs_dir=ROOT / "seeds")
    ingest(settings=Settings(**base))
    engines = {
        "reader off": Engine(Settings(**base, reader=False)),
        "reader on": Engine(Settings(**base, reader=True, reader_threads=args.threads)),
    }
    items, _ = load_dataset(ROOT / "eval" / "seeds_qa.jsonl")
    for e in engines.values():  # warm: models loaded, first calls paid
        for i in items[:3]:
            e.ask(i.question)
    ms: dict[str, list[float]] = {k: [] for k in engines}
    for _ in range(args.rounds):
        for i in items:
            for name, e in engines.items():
                t0 = time.perf_counter()
                e.ask(i.question)
                ms[name].append((time.perf_counter() - t0) * 1000)
    print(
        f"{len(items)} seed questions x {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}"
    )
    print("\n| setting | p50 ms | p95 ms |\n| --- | --- | --- |")
    for name, xs in ms.items():
        print(f"| {name} | {np.percentile(xs, 50):.1f} | {np.percentile(xs, 95):.1f} |")
    ratio = np.percentile(ms["reader on"], 50) / np.percentile(ms["reader off"], 50)
    print(f"\np50 ratio on/off: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
