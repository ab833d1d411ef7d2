"""The product's quality and speed under the evaluation protocol, beside its peers, in one run.

    python eval/bench.py            # everything: ~25 min on 2 quiet cores once the indexes exist
                                    # (first run from a fresh clone: add ~30 min of indexing)
    python eval/bench.py --quick    # SQuAD and seeds only, no e5, scale test to 10k: ~6 min
    python eval/bench.py --no-e5    # everything but the second embedding model
    python eval/bench.py --no-formats   # without the PDF/DOCX/HTML/scanned parity (~15 min)

Quality is reported on the TEST halves of the reference sets (``qa.evaluation.protocol``: split
by topic, fixed seed), never on questions a constant was tuned on; cross-set transfer comes from
eval/tune_retrieval.py (tuned on one set's tune half, measured on the other's test half). The
hand-written seed questions are in-sample and labelled so. Peers, all with the same MiniLM
embedding: LlamaIndex's default VectorStoreIndex over Chroma (SentenceSplitter 1024/200, top-10
retriever), dense only and BM25 only over our chunks, and reciprocal rank fusion of the two.
The reference sets vendored in ``eval/datasets/`` are converted into ``.qa_store/datasets/`` and
indexed into ``.qa_store/bench/`` once; later runs reuse both (the ingest is incremental).
Prints Markdown tables and writes ``eval/out/bench[-quick].json`` and ``.md``.
Timings on a shared CPU are noisy: compare the ratios of one run, not runs with each other.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import app_bench
import bench_render
import bench_setup as bs  # first: this checkout on sys.path, QA_* overrides cleared
import embedding_bench
import formats_bench
import ingest_bench
import latency_scale
import outcomes_bench
import retrieval_bench as rb
import tune_retrieval

ROOT = bs.ROOT
log = logging.getLogger("bench")

SHOWN_SETTINGS = {
    "embeddings", "chunk_tokens", "chunk_overlap_tokens", "top_k", "candidates", "fusion",
    "dense_weight", "link_weight", "min_relevance", "answer_sentences",
}  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="SQuAD and seeds only; smaller scale test")
    p.add_argument(
        "--datasets",
        type=Path,
        default=bs.DATASETS,
        help="folder holding the reference sets (default: the copies vendored in eval/datasets)",
    )
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    p.add_argument("--no-llama", action="store_true", help="leave the llama-index peer out")
    p.add_argument("--no-app", action="store_true", help="leave the app start-up test out")
    p.add_argument("--no-e5", action="store_true", help="leave the second embedding model out")
    p.add_argument(
        "--no-formats", action="store_true", help="leave the PDF/DOCX/HTML/scanned parity out"
    )
    p.add_argument(
        "--max-scale",
        type=int,
        default=100_000,
        help="largest synthetic corpus of the latency-at-scale test (default 100,000 chunks)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "chromadb", "bm25s", "index", "qa"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # It warns once per file that an optional reader package is missing (.txt needs none).
    logging.getLogger("llama_index").setLevel(logging.ERROR)
    from qa.evaluation.protocol import SPLIT_SEED, split_reference
    from qa.retrieval.hybrid import Fusion
    from qa.settings import Settings

    t_start = time.perf_counter()
    work = bs.WORK
    names = ["squad"] if args.quick else ["squad", "hotpotqa"]
    if not args.datasets.is_dir():
        print(f"error: the reference datasets are not at {args.datasets} (use --datasets DIR)",
              file=sys.stderr)  # fmt: skip
        return 2
    load0 = os.getloadavg()
    sets, engines, embedder = bs.open_engines(names, args.datasets)
    seed_qs = rb.load_questions(bs.SEEDS_QA) if bs.SEEDS_QA.is_file() else []
    res: dict = {
        "meta": {
            "quick": args.quick,
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_start": load0,
            "embedding": embedder.name,
            "split_seed": SPLIT_SEED,
            "settings": Settings().model_dump(include=SHOWN_SETTINGS),
        }
    }
    halves = {n: split_reference(n, s.questions) for n, s in sets.items()}
    res["meta"]["halves"] = {n: {h: len(q) for h, q in hs.items()} for n, hs in halves.items()}

    # ---- our index of each corpus (built by open_engines, then an incremental no-op)
    docs = {n: s.docs_dir for n, s in sets.items()} | {"seeds": ROOT / "seeds"}
    engines["seeds"], _ = bs.build("seeds", docs["seeds"], embedder)
    res["index"] = {}
    for name, folder in docs.items():
        again = bs.build(name, folder, embedder)[1]
        res["index"][name] = {"files": again.unchanged, "chunks": again.chunks_total}

    # ---- the llama-index peer
    peers = {}
    if not args.no_llama:
        from llama_peer import LlamaPeer

        for name in names:
            with bs.step(f"llama-index index {name}"):
                peers[name] = LlamaPeer(embedder, work / "llama", f"li_{name}").build(docs[name])
                res["index"][name]["llama_nodes"] = peers[name].n_nodes

    # ---- retrieval quality (test halves) and latency, peers side by side
    res["retrieval"] = {}
    for name in names:
        with bs.step(f"retrieval {name} (test half)"):
            qs = halves[name]["test"]
            vecs, embed_ms = rb.embed_questions(embedder, qs)
            out = rb.run_systems(rb.systems(engines[name].retriever, peers.get(name)), qs, vecs)
            out["query_embed"] = rb.latency(embed_ms)
            res["retrieval"][name] = out

    # ---- retrieval constants: tuned on tune halves, measured on test halves and across sets
    with bs.step("retrieval tuning and transfer"):
        res["tuning"] = tune_retrieval.run(
            {n: engines[n] for n in names}, sets, embedder, Fusion.of(engines[names[0]].settings)
        )

    # ---- answers: outcomes on test halves, near-miss and cross-corpus questions
    with bs.step("answers and outcomes"):
        res["outcomes"] = outcomes_bench.run(sets, engines, seed_qs, embedder, work / "cache")

    # ---- the two local embedding models
    if not (args.quick or args.no_e5):
        with bs.step("embedding models"):
            texts = ingest_bench.file_order_chunks(
                bs.bench_settings("squad", docs["squad"]), embedder
            )
            res["embeddings"] = embedding_bench.run(
                sets, engines, texts[:: max(1, len(texts) // 120)], args.datasets, bs.build
            )

    # ---- the same questions over PDF, DOCX, HTML and scanned copies of the documents
    if not args.no_formats:
        with bs.step("document formats"):
            res["formats"] = formats_bench.run(
                tuple(names), scanned=20 if args.quick else 40, work=work / "formats"
            )

    # ---- ingest throughput, side by side; whole processes
    res["ingest"] = {}
    slices = [("squad", None, 4)]
    if not args.quick:
        slices.append(("hotpotqa", 1000, 5))
    for name, n_files, parts in slices:
        with bs.step(f"ingest throughput {name}"):
            folders = ingest_bench.make_parts(docs[name], work / "slices" / name, n_files, parts)
            res["ingest"][name] = ingest_bench.run(
                folders, work / "throughput", embedder, llama=not args.no_llama
            )
    with bs.step("whole-process ingest"):
        res["process"] = ingest_bench.whole_process(ROOT, docs["squad"], work / "process", embedder)
        big = names[-1]
        res["process"]["rerun_s"] = ingest_bench.rerun_process(ROOT, docs[big], work, big)
        res["process"]["rerun_files"] = res["index"][big]["files"]
        res["process"]["rerun_set"] = big

    # ---- latency against corpus size
    with bs.step("latency at scale"):
        sizes = [n for n in (1000, 10_000, 100_000) if n <= args.max_scale]
        sizes = sizes[:2] if args.quick else sizes
        args.out.mkdir(parents=True, exist_ok=True)
        plot = args.out / ("latency_scale-quick.png" if args.quick else "latency_scale.png")
        res["scale"] = latency_scale.run(
            work / "scale", sizes, embedder, docs.get("hotpotqa", docs["squad"]), plot
        )
        res["scale_plot"] = str(plot.relative_to(ROOT) if plot.is_relative_to(ROOT) else plot)

    # ---- the app: start-up over seeds/, memory with the biggest corpus indexed
    if not args.no_app and (ROOT / "app.py").is_file():
        with bs.step("app start-up"):
            big = names[-1]
            res["app"] = {
                "seeds": app_bench.start_app(ROOT, ROOT / "seeds", work, "seeds"),
                big: app_bench.start_app(ROOT, docs[big], work, big),
                f"engine_{big}": app_bench.engine_rss(
                    work, big, [q.question for q in sets[big].questions[:50]]
                ),
            }

    res["errors"] = bs.ERRORS
    res["meta"]["seconds"] = time.perf_counter() - t_start
    res["meta"]["load_avg_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "bench-quick" if args.quick else "bench"
    # The results first: a table that fails to render can be rendered again from the JSON
    # (python eval/bench_render.py eval/out/bench.json).
    (args.out / f"{stem}.json").write_text(json.dumps(res, indent=2, default=float))
    table = bench_render.render(res)
    print(table)
    (args.out / f"{stem}.md").write_text(table + "\n")
    log.info("wrote %s and %s (%.0f s in all)", args.out / f"{stem}.json", args.out / f"{stem}.md",
             res["meta"]["seconds"])  # fmt: skip
    return 1 if bs.ERRORS else 0


if __name__ == "__main__":
    sys.exit(main())
