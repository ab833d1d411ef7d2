"""Retrieval quality and latency on the reference sets: ours and the peers, scored on gold files.

Gold is the question's own paragraph file(s): its ``sources`` (for SQuAD the paragraph, for
HotpotQA the two supporting paragraphs), through ``qa.evaluation.scoring`` with the evidence
strings set aside (``source_gold``), so every passage of a gold file is gold. A ranked list is
the retrieved passages in order (several passages of one file count once each, as they were
returned); hit@k and MRR@10 look at the first gold passage, "both@10" asks for every gold file
among the first ten.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import QAError
from qa.evaluation.dataset import EvalItem, load_dataset
from qa.evaluation.metrics import percentile
from qa.evaluation.references import REFERENCE_SETS
from qa.evaluation.scoring import Located, gold_coverage, rank_scores, source_gold

log = logging.getLogger(__name__)

RRF_K = 60  # the usual constant of reciprocal rank fusion


@dataclass(frozen=True)
class QASet:
    """A converted set: its documents folder and questions."""

    name: str
    docs_dir: Path
    questions: list[EvalItem]


def load_questions(path: Path) -> list[EvalItem]:
    """The questions of a dataset in the evaluation format; a bad line is an error here."""
    items, problems = load_dataset(path)
    if problems:
        raise QAError(f"{path}: {len(problems)} bad line(s), the first: {problems[0]}")
    return items


def prepare(datasets: Path, cache: Path, names: list[str]) -> dict[str, QASet]:
    """Convert the reference sets into the cache (rewritten only where a file changed)."""
    out = {}
    for name in names:
        ref = REFERENCE_SETS[name]
        conv = ref.convert(ref.source(datasets), cache / name)
        out[name] = QASet(name, conv.docs_dir, load_questions(conv.questions))
    return out


def scores(ranked: Sequence[Sequence[Located]], items: Sequence[EvalItem]) -> dict:
    """hit@1, hit@5, MRR@10 and both-gold-in-top-10 over the questions, gold = the source files."""
    h1 = h5 = mrr = both = 0.0
    for found, item in zip(ranked, items, strict=True):
        gold = source_gold(item)
        r = rank_scores(gold, found)  # None where a question names no gold: counts as a miss
        h1 += r["hit1"] or 0.0
        h5 += r["hit5"] or 0.0
        mrr += r["mrr10"] or 0.0
        both += float(gold_coverage(gold, found[:10]) == 1.0)
    n = max(len(items), 1)
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


def _rrf_search(retriever, question: str, vector: np.ndarray, n: int = 30) -> list[Located]:
    """The common hybrid: RRF of dense top-n and BM25 top-n over our chunks; the top 10."""
    dense = retriever.corpus.nearest(vector, n)
    bm25 = retriever.corpus.keyword.search(question, n)
    chunk = {c.id: c for c in dense + bm25}
    return [chunk[c] for c in rrf([[c.id for c in dense], [c.id for c in bm25]])[:10]]


def systems(retriever, peer=None) -> dict:
    """Each system as f(question, vector) -> ranked passages (top 10; a source and a text each).

    ``hybrid``, ``dense``, ``bm25`` and ``rrf`` get the question's vector; ``hybrid_embedding``
    and ``llama`` embed the question themselves (their times include it).
    """

    def ours(mode: str, embed: bool = False):
        def run(q: str, v: np.ndarray) -> list[Located]:
            return retriever.search(q, k=10, mode=mode, vector=None if embed else v)

        return run

    out = {m: ours(m) for m in ("hybrid", "dense", "bm25")}
    out["rrf"] = lambda q, v: _rrf_search(retriever, q, v)
    out["hybrid_embedding"] = ours("hybrid", embed=True)
    if peer is not None:
        from llama_peer import retrieve_hits

        llama = peer.retriever(10)
        out["llama"] = lambda q, v: retrieve_hits(llama, q)
    return out


def run_systems(runs: dict, questions: list[EvalItem], vectors: np.ndarray) -> dict:
    """Every system on every question, taking turns question by question (rotating the order),
    so that a shared CPU's changing load falls on all of them alike; quality and latency each.
    """
    names = list(runs)
    ranked: dict[str, list[list[Located]]] = {n: [] for n in names}
    times: dict[str, list[float]] = {n: [] for n in names}
    for n in names:  # warm-up
        runs[n](questions[0].question, vectors[0])
    for i, (q, v) in enumerate(zip(questions, vectors, strict=True)):
        for n in names[i % len(names) :] + names[: i % len(names)]:
            t0 = time.perf_counter()
            ranked[n].append(runs[n](q.question, v))
            times[n].append((time.perf_counter() - t0) * 1000)
    return {n: {**scores(ranked[n], questions), **latency(times[n])} for n in names}


def embed_questions(embedder, questions: list[EvalItem]) -> tuple[np.ndarray, list[float]]:
    """The question vectors, and the time each took alone (ms)."""
    times = []
    vectors = []
    embedder.embed_query(questions[0].question)
    for q in questions:
        t0 = time.perf_counter()
        vectors.append(embedder.embed_query(q.question))
        times.append((time.perf_counter() - t0) * 1000)
    return np.stack(vectors), times
