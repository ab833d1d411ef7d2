"""Retrieval quality and latency on the shared sets: ours and the peers, scored on gold files.

Gold for SQuAD is the question's own paragraph file, for HotpotQA the two supporting paragraph
files. A ranked list is the retrieved passages in order (several passages of one file count
once each, as they were returned); hit@k and MRR@10 look at the first gold passage,
"both@10" asks for every gold file among the first ten.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.datasets import convert_hotpotqa, convert_squad
from qa.metrics import hit_at, mrr_at, percentile

log = logging.getLogger(__name__)

SETS = {
    "squad": ("squad-expmrc/expmrc-squad-dev.json", convert_squad),
    "hotpotqa": ("hotpotqa-dev500/dev_subsampled.jsonl", convert_hotpotqa),
}
RRF_K = 60  # the usual constant of reciprocal rank fusion


@dataclass(frozen=True)
class QASet:
    """A converted set: its documents folder and questions."""

    name: str
    docs_dir: Path
    questions: list[dict]


def prepare(datasets: Path, cache: Path, names: list[str]) -> dict[str, QASet]:
    """Convert the shared sets into the cache (rewritten only where a file changed)."""
    out = {}
    for name in names:
        rel, convert = SETS[name]
        conv = convert(datasets / rel, cache / name)
        qs = [json.loads(line) for line in conv.questions.read_text(encoding="utf-8").splitlines()]
        out[name] = QASet(name, conv.docs_dir, qs)
    return out


def load_questions(path: Path) -> list[dict]:
    """Questions of a JSONL file in the evaluation format."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def scores(ranked: list[list[str]], gold: list[list[str]]) -> dict:
    """hit@1, hit@5, MRR@10 and both-gold-in-top-10 over the questions."""
    h1 = h5 = mrr = both = 0.0
    for sources, g in zip(ranked, gold, strict=True):
        flags = [s in g for s in sources[:10]]
        h1 += hit_at(flags, 1)
        h5 += hit_at(flags, 5)
        mrr += mrr_at(flags, 10)
        both += float(set(g) <= set(sources[:10]))
    n = max(len(gold), 1)
    return {"hit@1": h1 / n, "hit@5": h5 / n, "mrr@10": mrr / n, "both@10": both / n}


def latency(times_ms: list[float]) -> dict:
    """p50 and p95 in milliseconds."""
    return {"p50_ms": percentile(times_ms, 50), "p95_ms": percentile(times_ms, 95)}


def rrf(rankings: list[list[str]], k: int = RRF_K) -> list[str]:
    """Reciprocal rank fusion of several rankings of ids, best first."""
    score: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking):
            score[cid] = score.get(cid, 0.0) + 1.0 / (k + rank + 1)
    return sorted(score, key=lambda c: -score[c])


def _rrf_search(retriever, question: str, vector: np.ndarray, n: int = 30) -> list[str]:
    """The common hybrid: RRF of dense top-n and BM25 top-n over our chunks; sources."""
    dense = retriever.store.query(vector, n)
    bm25 = retriever.keyword.search(question, n)
    source = {c.id: c.source for c in dense + bm25}
    return [source[c] for c in rrf([[c.id for c in dense], [c.id for c in bm25]])[:10]]


def systems(retriever, peer=None) -> dict:
    """Each system as f(question, vector) -> ranked sources (top 10).

    ``hybrid``, ``dense``, ``bm25`` and ``rrf`` get the question's vector; ``hybrid_embedding``
    and ``llama`` embed the question themselves (their times include it).
    """

    def ours(mode: str, embed: bool = False):
        def run(q: str, v: np.ndarray) -> list[str]:
            found = retriever.search(q, k=10, mode=mode, vector=None if embed else v)
            return [p.source for p in found]

        return run

    out = {m: ours(m) for m in ("hybrid", "dense", "bm25")}
    out["rrf"] = lambda q, v: _rrf_search(retriever, q, v)
    out["hybrid_embedding"] = ours("hybrid", embed=True)
    if peer is not None:
        from llama_peer import retrieve_sources

        llama = peer.retriever(10)
        out["llama"] = lambda q, v: retrieve_sources(llama, q)
    return out


def run_systems(runs: dict, questions: list[dict], vectors: np.ndarray) -> dict:
    """Every system on every question, taking turns question by question (rotating the order),
    so that a shared CPU's changing load falls on all of them alike; quality and latency each.
    """
    names = list(runs)
    ranked: dict[str, list[list[str]]] = {n: [] for n in names}
    times: dict[str, list[float]] = {n: [] for n in names}
    for n in names:  # warm-up
        runs[n](questions[0]["question"], vectors[0])
    for i, (q, v) in enumerate(zip(questions, vectors, strict=True)):
        for n in names[i % len(names) :] + names[: i % len(names)]:
            t0 = time.perf_counter()
            ranked[n].append(runs[n](q["question"], v))
            times[n].append((time.perf_counter() - t0) * 1000)
    gold = [q["sources"] for q in questions]
    return {n: {**scores(ranked[n], gold), **latency(times[n])} for n in names}


def embed_questions(embedder, questions: list[dict]) -> tuple[np.ndarray, list[float]]:
    """The question vectors, and the time each took alone (ms)."""
    times = []
    vectors = []
    embedder.embed([questions[0]["question"]])
    for q in questions:
        t0 = time.perf_counter()
        vectors.append(embedder.embed([q["question"]])[0])
        times.append((time.perf_counter() - t0) * 1000)
    return np.stack(vectors), times
