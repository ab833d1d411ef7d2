"""What every benchmark script shares: the shipped defaults, the reference sets, their indexes.

Importing it puts this checkout first on ``sys.path`` (its code is what gets measured, whichever
checkout an editable install points at) and clears every ``QA_*`` override, so the shipped
defaults are measured, with no model configured and nothing phoning home.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

for _var in list(os.environ):
    if _var.startswith("QA_") or _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(_var)
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import retrieval_bench as rb  # noqa: E402

log = logging.getLogger("bench")

DATASETS = ROOT / "eval" / "datasets"
CONVERTED = ROOT / ".qa_store" / "datasets"
WORK = ROOT / ".qa_store" / "bench"
SEEDS_QA = ROOT / "eval" / "seeds_qa.jsonl"
ERRORS: dict[str, str] = {}


def step(name: str):
    """Log a step and its duration; a failure is logged and recorded, and the run goes on."""

    class _Step:
        def __enter__(self):
            self.t0 = time.perf_counter()
            log.info("%s ...", name)

        def __exit__(self, kind, exc, tb):
            if exc is not None:
                log.error("%s failed: %s", name, exc, exc_info=(kind, exc, tb))
                ERRORS[name] = f"{kind.__name__}: {exc}"
                return True
            log.info("%s done in %.1f s", name, time.perf_counter() - self.t0)
            return False

    return _Step()


def bench_settings(collection: str, docs_dir: Path, work: Path = WORK, **overrides):
    """The shipped settings over a bench collection."""
    from qa.settings import Settings

    return Settings(store_dir=work, collection=collection, docs_dir=docs_dir, **overrides)


def build(collection: str, docs_dir: Path, embedder=None, work: Path = WORK, **overrides):
    """Index a folder into a bench collection (incremental: a no-op once built); its Engine."""
    from index.ingest import ingest
    from qa.engine import Engine

    settings = bench_settings(collection, docs_dir, work, **overrides)
    report = ingest(settings.ingest_config, embedder=embedder)
    if report.chunks_embedded:
        log.info("indexed %s: %s", collection, report.summary())
    return Engine(settings), report


def open_engines(names: list[str], datasets: Path = DATASETS):
    """The converted reference sets, an Engine over each one's index, and the shipped embedder."""
    from index.embed import make_embedder
    from qa.settings import Settings

    sets = rb.prepare(datasets, CONVERTED, names)
    embedder = make_embedder(Settings().embed_config)
    engines = {n: build(n, s.docs_dir, embedder)[0] for n, s in sets.items()}
    return sets, engines, embedder


class ReusingEmbedder:
    """An embedder that takes a text's vector from collections already built, embedding the rest.

    The near-miss corpora and the HotpotQA subset are folders of files that a full index already
    holds, chunked the same way: their vectors are copied, not computed again (same model name,
    so the stores cannot tell, and the result is identical).
    """

    def __init__(self, embedder, *settings):
        from index.store import open_store

        self.base = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self.vectors: dict[str, list[float]] = {}
        for s in settings:
            store = open_store(s.store_config, embedder.name, embedder.dim, create=False)
            col = store._col  # the bench reads the raw collection once, in pages
            for offset in range(0, store.count(), 5000):
                got = col.get(include=["documents", "embeddings"], limit=5000, offset=offset)
                self.vectors.update(zip(got["documents"], got["embeddings"], strict=True))

    def count_tokens(self, texts):
        return self.base.count_tokens(texts)

    def embed_query(self, text):
        return self.base.embed_query(text)

    def embed(self, texts, progress=None):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.base.embed(missing), strict=True))
        if progress:
            progress(len(texts))
        return np.asarray([self.vectors[t] for t in texts], dtype=np.float32)
