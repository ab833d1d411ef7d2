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


def run_ours(
    retriever, questions: list[dict], vectors: np.ndarray, mode: str, embed: bool = False
) -> dict:
    """Our retriever in one mode (hybrid / dense / bm25), warm; ``embed``: time the embedding too."""
    ranked, times = [], []
    retriever.search(questions[0]["question"], k=10, mode=mode, vector=vectors[0])  # warm-up
    for q, v in zip(questions, vectors, strict=True):
        t0 = time.perf_counter()
        passages = retriever.search(q["question"], k=10, mode=mode, vector=None if embed else v)
        times.append((time.perf_counter() - t0) * 1000)
        ranked.append([p.source for p in passages])
    return {**scores(ranked, [q["sources"] for q in questions]), **latency(times)}


def rrf(rankings: list[list[str]], k: int = RRF_K) -> list[str]:
    """Reciprocal rank fusion of several rankings of ids, best first."""
    score: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking):
            score[cid] = score.get(cid, 0.0) + 1.0 / (k + rank + 1)
    return sorted(score, key=lambda c: -score[c])


def run_rrf(retriever, questions: list[dict], vectors: np.ndarray, n: int = 30) -> dict:
    """The common hybrid: RRF of dense top-n and BM25 top-n over our chunks."""
    ranked, times = [], []
    for q, v in zip(questions, vectors, strict=True):
        t0 = time.perf_counter()
        dense = retriever.store.query(v, n)
        bm25 = retriever.keyword.search(q["question"], n)
        source = {c.id: c.source for c in dense + bm25}
        fused = rrf([[c.id for c in dense], [c.id for c in bm25]])[:10]
        times.append((time.perf_counter() - t0) * 1000)
        ranked.append([source[c] for c in fused])
    return {**scores(ranked, [q["sources"] for q in questions]), **latency(times)}


def run_llama(peer, questions: list[dict]) -> dict:
    """llama-index's default retriever (top 10); its time includes embedding the question."""
    from llama_peer import retrieve_sources

    retriever = peer.retriever(10)
    retrieve_sources(retriever, questions[0]["question"])  # warm-up
    ranked, times = [], []
    for q in questions:
        t0 = time.perf_counter()
        ranked.append(retrieve_sources(retriever, q["question"]))
        times.append((time.perf_counter() - t0) * 1000)
    return {**scores(ranked, [q["sources"] for q in questions]), **latency(times)}


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
