"""Ingest throughput, side by side: the bare model, our ingest and llama-index's default ingest.

The bare model embeds our chunks of the same files in file order, 32 at a time, and does nothing
else (no loading, chunking, sorting or writing). Our ingest and llama-index's build a fresh store
of the same files from scratch. On a shared CPU whose load changes by the minute, the files are
cut into a few parts and the three take turns part by part (in rotating order), so that the
load falls on all three alike; each one's time is the sum over the parts.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from index.chunk import chunk_document
from index.ingest import embedding_text, ingest
from index.load import load, scan
from qa.settings import Settings

log = logging.getLogger(__name__)


def make_parts(docs_dir: Path, out: Path, n_files: int | None, parts: int) -> list[Path]:
    """The first ``n_files`` files of ``docs_dir`` (name order) in ``parts`` folders, reused."""
    files = sorted(p for p in docs_dir.iterdir() if p.is_file())[:n_files]
    size = -(-len(files) // parts)
    folders = []
    for k in range(parts):
        folder = out / f"part{k}"
        chosen = files[k * size : (k + 1) * size]
        folder.mkdir(parents=True, exist_ok=True)
        wanted = {p.name for p in chosen}
        for stale in {p.name for p in folder.iterdir()} - wanted:
            (folder / stale).unlink()
        for p in chosen:
            dest = folder / p.name
            if not dest.exists() or dest.stat().st_size != p.stat().st_size:
                shutil.copyfile(p, dest)
        folders.append(folder)
    return folders


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
    report = ingest(settings.ingest_config, embedder=embedder)
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


def run(folders: list[Path], work: Path, embedder, llama: bool = True) -> dict:
    """Time the three part by part; seconds, chunks/s and ratios (ours against each)."""
    names = ["bare", "ours", "llama"] if llama else ["bare", "ours"]
    total = dict.fromkeys(names, 0.0)
    parts = []
    embedder._run(["warm up"])
    n_files = n_chunks = llama_nodes = 0
    for k, folder in enumerate(folders):
        texts = file_order_chunks(Settings(docs_dir=folder), embedder)
        n_files += sum(1 for _ in folder.iterdir())
        n_chunks += len(texts)
        # A fresh folder each time: Chroma caches clients by path within a process.
        tag = f"{os.getpid()}-{time.time_ns()}"
        row = {}
        for name in names[k % len(names) :] + names[: k % len(names)]:
            if name == "bare":
                row[name] = bare_seconds(embedder, texts)
            elif name == "ours":
                row[name], _ = ours_seconds(folder, work / f"ours-{tag}", embedder)
            else:
                row[name], nodes = llama_seconds(folder, work / f"llama-{tag}", embedder)
                llama_nodes += nodes
            total[name] += row[name]
        log.info("ingest part %d/%d: %s", k + 1, len(folders), row)
        parts.append(row)
    out = {
        "files": n_files,
        "chunks": n_chunks,
        "parts": parts,
        "bare_s": total["bare"],
        "ours_s": total["ours"],
        "ours_vs_bare": total["bare"] / total["ours"],
        "bare_chunks_per_s": n_chunks / total["bare"],
        "ours_chunks_per_s": n_chunks / total["ours"],
    }
    if llama:
        out["llama_s"] = total["llama"]
        out["llama_nodes"] = llama_nodes
        out["llama_vs_bare"] = total["bare"] / total["llama"]
        out["ours_vs_llama"] = total["llama"] / total["ours"]
    return out
