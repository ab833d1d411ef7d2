"""Retrieval latency against corpus size (1k, 10k, 100k chunks) with synthetic vectors and text.

The vectors are random unit vectors and the texts random words drawn with a Zipf law from a real
vocabulary, so that both the HNSW (dense) and the BM25 (keyword) side carry realistic load
without embedding 100,000 texts on a 2-core machine. Stores are kept between runs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from pathlib import Path

import numpy as np

from index.keyword import KeywordIndex
from index.store import open_store
from index.types import Chunk
from qa.evaluation.metrics import percentile
from qa.retrieval.hybrid import Retriever
from qa.settings import Settings

log = logging.getLogger(__name__)

WORDS_PER_CHUNK = 120
DIM = 384


def vocabulary(docs_dir: Path | None, size: int = 30_000) -> list[str]:
    """Words by frequency from a real corpus (or made-up words if none is at hand)."""
    counts: dict[str, int] = {}
    if docs_dir and docs_dir.is_dir():
        for p in sorted(docs_dir.iterdir())[:3000]:
            for w in re.findall(r"[A-Za-z]+", p.read_text(encoding="utf-8", errors="replace")):
                counts[w.lower()] = counts.get(w.lower(), 0) + 1
    words = sorted(counts, key=lambda w: -counts[w])[:size]
    rng = np.random.default_rng(1)
    while len(words) < size:
        words.append("".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 7)))
    return words


def _texts(rng: np.random.Generator, words: list[str], n: int, length: int) -> list[str]:
    ranks = np.minimum(rng.zipf(1.15, size=(n, length)), len(words)) - 1
    return [" ".join(words[i] for i in row) for row in ranks]


def build(store_dir: Path, n: int, words: list[str], model: str, dim: int) -> Settings:
    """A store of n synthetic chunks (reused when it already holds them)."""
    settings = Settings(store_dir=store_dir, collection=f"scale{n}", docs_dir=store_dir)
    store = open_store(settings.store_config, model, dim)
    if store.count() == n:
        KeywordIndex.for_store(store)
        return settings
    rng = np.random.default_rng(n)
    step = 5000
    with store.write_lock():
        for s in range(store.count(), n, step):
            m = min(step, n - s)
            vecs = rng.standard_normal((m, dim)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            chunks = []
            for j, text in enumerate(_texts(rng, words, m, WORDS_PER_CHUNK)):
                i = s + j
                src = f"synthetic/{i // 4:06d}.txt"
                cid = hashlib.sha1(f"{n}-{i}".encode()).hexdigest()
                chunks.append(Chunk(cid, src, 0, len(text), text, "h", i % 4, 4, ""))
            store.upsert(chunks, vecs)
        store.bump_generation()
        KeywordIndex.for_store(store, rebuild=True)
    return settings


def measure(settings: Settings, embedder, words: list[str], queries: int = 60) -> dict:
    """p50/p95 of a full hybrid search (query vector given), warm."""
    from index.corpus import Corpus

    retriever = Retriever(settings, Corpus(settings.store_config, embedder))
    rng = np.random.default_rng(7)
    qs = _texts(rng, words[:5000], queries + 5, 8)
    vecs = rng.standard_normal((queries + 5, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    times = []
    for i, (q, v) in enumerate(zip(qs, vecs, strict=True)):
        t0 = time.perf_counter()
        retriever.search(q, k=10, vector=v)
        if i >= 5:  # the first few warm the caches
            times.append((time.perf_counter() - t0) * 1000)
    return {
        "chunks": len(retriever.corpus),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
    }


def run(store_dir: Path, sizes: list[int], embedder, docs_dir: Path | None, plot: Path | None):
    """Build (or reuse) each size, time it, and draw latency against size."""
    words = vocabulary(docs_dir)
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        settings = build(store_dir, n, words, embedder.name, embedder.dim)
        built = time.perf_counter() - t0
        row = measure(settings, embedder, words)
        row["setup_s"] = built
        rows.append(row)
        log.info("scale %d: %s", n, row)
    if plot is not None:
        _plot(rows, plot)
    return rows


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [r["chunks"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(x, [r["p50_ms"] for r in rows], "o-", label="p50")
    ax.plot(x, [r["p95_ms"] for r in rows], "s--", label="p95")
    ax.axhline(50, color="grey", lw=0.8, ls=":", label="target p50 50 ms")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index (synthetic vectors)")
    ax.set_ylabel("hybrid retrieval latency, ms")
    ax.set_title("Retrieval latency against corpus size")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
