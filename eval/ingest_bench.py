"""Ingest throughput, side by side: the bare model, our ingest and llama-index's default ingest.

The bare model embeds our chunks of the same files in file order, 32 at a time, and does nothing
else (no loading, chunking, sorting or writing). Our ingest and llama-index's build a fresh store
of the same folder from scratch. The three run in turns, ``rounds`` times, on a shared CPU: the
ratios of one round are what to compare, the medians over rounds are what the table shows.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import time
from pathlib import Path

from index.chunk import chunk_document
from index.ingest import embedding_text, ingest
from index.load import load, scan
from qa.settings import Settings

log = logging.getLogger(__name__)


def make_slice(docs_dir: Path, out: Path, n_files: int | None) -> Path:
    """A folder with the first ``n_files`` files of ``docs_dir`` (in name order), reused."""
    files = sorted(p for p in docs_dir.iterdir() if p.is_file())
    if n_files is not None:
        files = files[:n_files]
    out.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in files}
    for stale in {p.name for p in out.iterdir()} - wanted:
        (out / stale).unlink()
    for p in files:
        dest = out / p.name
        if not dest.exists() or dest.stat().st_size != p.stat().st_size:
            shutil.copyfile(p, dest)
    return out


def file_order_chunks(settings: Settings, embedder) -> list[str]:
    """The texts our ingest embeds for the folder, in file order."""
    entries, _ = scan([settings.docs_dir], settings.max_file_bytes)
    texts = []
    for e in entries:
        doc = load(e)
        if hasattr(doc, "text"):
            chunks = chunk_document(
                doc, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_tokens
            )
            texts.extend(embedding_text(c) for c in chunks)
    return texts


def bare_seconds(embedder, texts: list[str], batch: int = 32) -> float:
    """Seconds for the model alone to embed the texts in order, ``batch`` at a time."""
    t0 = time.perf_counter()
    for s in range(0, len(texts), batch):
        embedder._run([t or " " for t in texts[s : s + batch]])
    return time.perf_counter() - t0


def ours_seconds(docs_dir: Path, work: Path, embedder) -> tuple[float, int]:
    """Seconds for a full ingest of the folder into a fresh store, and the chunks written."""
    shutil.rmtree(work, ignore_errors=True)
    settings = Settings(store_dir=work, collection="throughput", docs_dir=docs_dir)
    t0 = time.perf_counter()
    report = ingest(settings, embedder=embedder)
    seconds = time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)
    return seconds, report.chunks_total


def llama_seconds(docs_dir: Path, work: Path, embedder) -> tuple[float, int]:
    """Seconds for llama-index's default VectorStoreIndex build over Chroma, from scratch."""
    from llama_peer import LlamaPeer

    shutil.rmtree(work, ignore_errors=True)
    peer = LlamaPeer(embedder, work, "throughput").build(docs_dir, reuse=False)
    shutil.rmtree(work, ignore_errors=True)
    return peer.build_seconds or 0.0, peer.n_nodes


def run(docs_dir: Path, work: Path, embedder, rounds: int = 1, llama: bool = True) -> dict:
    """Time the three in turns; seconds, chunks/s and ratios (ours against each)."""
    settings = Settings(docs_dir=docs_dir)
    texts = file_order_chunks(settings, embedder)
    embedder._run(texts[:8])  # warm the session
    per_round = []
    for r in range(rounds):
        # A fresh folder each time: Chroma caches clients by path within a process.
        tag = f"{os.getpid()}-{time.time_ns()}"
        row = {"bare_s": bare_seconds(embedder, texts)}
        row["ours_s"], row["ours_chunks"] = ours_seconds(docs_dir, work / f"ours-{tag}", embedder)
        if llama:
            row["llama_s"], row["llama_nodes"] = llama_seconds(
                docs_dir, work / f"llama-{tag}", embedder
            )
        log.info("ingest round %d: %s", r + 1, row)
        per_round.append(row)
    med = {k: statistics.median(r[k] for r in per_round) for k in per_round[0]}
    n_files = len(list(docs_dir.iterdir()))
    out = {
        "files": n_files,
        "chunks": len(texts),
        "rounds": per_round,
        "bare_s": med["bare_s"],
        "ours_s": med["ours_s"],
        "ours_vs_bare": statistics.median(r["bare_s"] / r["ours_s"] for r in per_round),
        "bare_chunks_per_s": len(texts) / med["bare_s"],
        "ours_chunks_per_s": len(texts) / med["ours_s"],
    }
    if llama:
        out["llama_s"] = med["llama_s"]
        out["llama_nodes"] = med["llama_nodes"]
        out["llama_vs_bare"] = statistics.median(r["bare_s"] / r["llama_s"] for r in per_round)
        out["ours_vs_llama"] = statistics.median(r["llama_s"] / r["ours_s"] for r in per_round)
    return out
