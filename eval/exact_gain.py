"""The dense side's nearest chunks: Chroma's HNSW index beside the exact search, per collection.

    python eval/exact_gain.py     # run it twice: Chroma's column changes, the exact one does not

For every question of the evaluation's cases (``eval/cases.py``: each domain's questions asked of
their own documents, of the near-miss copy and of the other corpora, the seed and multilingual
questions) the ten nearest chunks of the question's vector, three ways:

- truth: every live chunk's cosine (the stored vectors, one matrix product), the ten highest;
- chroma: ``Store.query`` (what the product used before ``index.exact``), n_results = 10;
- exact: ``Corpus.nearest`` as the product runs it (exact up to ``EXACT_UP_TO`` chunks).

A question *misses* when the tenth chunk returned is less similar than the tenth of the truth
(a chunk level with it, an equal-cosine duplicate, is no miss). Per collection: chunks,
questions, misses each way, and the time per question each way (p50, this process). Chroma's
graph is built anew in each process that opens a collection below its sync threshold, so its
misses differ from run to run; the exact side's never do.

Prints a markdown table and writes ``eval/out/exact_gain.json``.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import numpy as np  # noqa: E402
from calibrate import DOMAINS  # noqa: E402  (first: it clears QA_ settings from the environment)
from cases import report, shared_cases  # noqa: E402

from qa.engine import Engine  # noqa: E402
from qa.settings import Settings  # noqa: E402

K = 10


def main() -> int:
    cases = shared_cases(DOMAINS)
    asked: dict[str, list[str]] = defaultdict(list)
    for c in cases:
        asked[c.corpus].append(c.asked.standalone)
    lines = ["| collection | chunks | questions | chroma missed | exact missed | chroma p50 ms "
             "| exact p50 ms |", "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    out, total = {}, np.zeros(3, dtype=int)
    for corpus, questions in sorted(asked.items()):
        settings = Settings(store_dir=ROOT / ".qa_store" / "calib",
                            collection=f"{corpus}-minilm", embeddings="minilm")  # fmt: skip
        store = Engine(settings).retriever.corpus
        ids, _ = store.keyword.live()
        held = store.store.vectors(ids)
        ids = [i for i in ids if i in held]
        matrix = np.stack([held[i] for i in ids])
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        missed, took = {"chroma": 0, "exact": 0}, {"chroma": [], "exact": []}
        ways = {"chroma": lambda v, s=store: s.store.query(v, K),
                "exact": lambda v, s=store: s.nearest(v, K)}  # fmt: skip
        for q in dict.fromkeys(questions):
            v = store.embed_query(q)
            tenth = np.sort(matrix @ v)[-min(K, len(ids))]
            for way, find in ways.items():
                t = time.perf_counter()
                got = find(v)
                took[way].append(1000 * (time.perf_counter() - t))
                worst = min(float(np.dot(held[c.id], v) / np.linalg.norm(held[c.id])) for c in got)
                missed[way] += int(worst < tenth - 1e-5)
        n = len(dict.fromkeys(questions))
        p50 = {w: float(np.percentile(t, 50)) for w, t in took.items()}
        out[corpus] = {"chunks": len(ids), "questions": n, "missed": missed, "p50_ms": p50}
        total += [n, missed["chroma"], missed["exact"]]
        lines.append(f"| {corpus} | {len(ids):,} | {n:,} | {missed['chroma']} | {missed['exact']} "
                     f"| {p50['chroma']:.2f} | {p50['exact']:.2f} |")  # fmt: skip
    lines.append(f"| all | | {total[0]:,} | {total[1]} | {total[2]} | | |")
    out["all"] = {"questions": int(total[0]), "chroma": int(total[1]), "exact": int(total[2])}
    report("exact_gain", lines, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
