"""Ingest throughput, side by side: the bare model, our ingest and llama-index's default ingest.

The bare model embeds our chunks of the same files with the same length-sorted batching as ingest
(``Embedder.embed``) and does nothing else (no loading, chunking or writing): ingest can at best
match it, so "ours vs bare" near 1.0 means ingest adds little to the model's own time. Our ingest
and llama-index's build a fresh store of the same files from scratch. On a shared CPU whose load
changes by the minute, the files are cut into a few parts and the three take turns part by part
(in rotating order), so that the load falls on all three alike; each one's time is the sum over
the parts.

``whole_process`` times what a user waits for: a ``qa ingest`` process from start to exit (Python
start-up, imports, model load included) against a process that loads the model and embeds the
same chunk texts, and the re-run of ``qa ingest`` over an unchanged, indexed folder.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
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


def bare_seconds(embedder, texts: list[str]) -> float:
    """Seconds for the model alone to embed the texts, batched as ingest batches them."""
    t0 = time.perf_counter()
    embedder.embed(texts)
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
    embedder.embed(["warm up"])
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


BARE_PROCESS = """
import json, sys
from index.embed import make_embedder
from qa.settings import Settings
texts = json.load(open(sys.argv[1]))
make_embedder(Settings().embed_config).embed(texts)
"""


def _timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed: {(done.stderr or done.stdout)[-300:]}")
    return seconds


def whole_process(root: Path, docs_dir: Path, work: Path, embedder, rounds: int = 2) -> dict:
    """Wall time of a fresh ``qa ingest`` process vs a bare-model process over the same texts.

    Both take turns ``rounds`` times (the best of each counts: the least disturbed by others).
    """
    texts = file_order_chunks(Settings(docs_dir=docs_dir), embedder)
    work.mkdir(parents=True, exist_ok=True)
    (work / "texts.json").write_text(json.dumps(texts))
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["PYTHONPATH"] = str(root)
    ingest_s, bare_s = [], []
    for r in range(rounds):
        store = work / f"store-{os.getpid()}-{r}"
        shutil.rmtree(store, ignore_errors=True)
        run_env = env | {"QA_STORE_DIR": str(store), "QA_DOCS_DIR": str(docs_dir)}
        ingest_s.append(_timed([sys.executable, "-m", "qa.cli", "ingest"], run_env))
        shutil.rmtree(store, ignore_errors=True)
        bare_s.append(_timed([sys.executable, "-c", BARE_PROCESS, str(work / "texts.json")], env))
    return {
        "chunks": len(texts),
        "qa_ingest_s": min(ingest_s),
        "bare_process_s": min(bare_s),
        "ingest_vs_bare_time": min(ingest_s) / min(bare_s),
    }


def rerun_process(root: Path, docs_dir: Path, store_dir: Path, collection: str) -> float:
    """Wall time of ``qa ingest`` over an indexed, unchanged folder, from start to exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env |= {
        "PYTHONPATH": str(root),
        "QA_STORE_DIR": str(store_dir),
        "QA_COLLECTION": collection,
        "QA_DOCS_DIR": str(docs_dir),
    }
    _timed([sys.executable, "-m", "qa.cli", "ingest"], env)  # makes sure it is up to date
    return _timed([sys.executable, "-m", "qa.cli", "ingest"], env)
