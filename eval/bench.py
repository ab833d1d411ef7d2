"""The product's quality and speed, measured side by side with its peers in one run.

    python eval/bench.py            # everything: ~5 min once the indexes exist, ~15 min
                                    # from a fresh clone (2 quiet cores; 2-3x when busy)
    python eval/bench.py --quick    # SQuAD and seeds only, scale test to 10k: ~2 min fresh

Peers, all with the same local MiniLM embedding: LlamaIndex's default VectorStoreIndex over
Chroma (SentenceSplitter 1024/200, top-10 retriever), dense only and BM25 only over our chunks,
and reciprocal rank fusion of the two. The reference sets vendored in ``eval/datasets/`` are
converted into ``.qa_store/datasets/`` and indexed into ``.qa_store/bench/`` once; later runs
reuse both (the ingest is incremental). Everything is scored by ``qa.evaluation``. Prints a Markdown table and writes ``eval/out/bench[-quick].json``.
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
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
# This checkout's code is what gets measured, whichever one an editable install points at.
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

# Measure the shipped defaults: no QA_* overrides, no model configured, nothing phones home.
for _var in list(os.environ):
    if _var.startswith("QA_") or _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(_var)
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import answer_bench as ab  # noqa: E402
import app_bench  # noqa: E402
import ingest_bench  # noqa: E402
import latency_scale  # noqa: E402
import retrieval_bench as rb  # noqa: E402

if TYPE_CHECKING:
    from qa.evaluation.dataset import EvalItem

log = logging.getLogger("bench")

SHOWN_SETTINGS = {
    "chunk_tokens", "chunk_overlap_tokens", "top_k", "candidates", "dense_weight", "link_weight",
    "min_relevance", "answer_sentences",
}  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="SQuAD and seeds only; smaller scale test")
    p.add_argument(
        "--datasets",
        type=Path,
        default=ROOT / "eval" / "datasets",
        help="folder holding the reference sets (default: the copies vendored in eval/datasets)",
    )
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    p.add_argument("--no-llama", action="store_true", help="leave the llama-index peer out")
    p.add_argument("--no-app", action="store_true", help="leave the app start-up test out")
    return p.parse_args(argv)


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


def bench_settings(name: str, docs_dir: Path, work: Path):
    from qa.settings import Settings

    return Settings(store_dir=work, collection=name, docs_dir=docs_dir)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "chromadb", "bm25s", "index", "qa"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # It warns once per file that an optional reader package is missing (.txt needs none).
    logging.getLogger("llama_index").setLevel(logging.ERROR)
    from index.embed import make_embedder
    from index.ingest import ingest
    from qa.pipeline import Engine
    from qa.settings import Settings

    t_start = time.perf_counter()
    work = ROOT / ".qa_store" / "bench"
    names = ["squad"] if args.quick else ["squad", "hotpotqa"]
    if not args.datasets.is_dir():
        print(
            f"error: the reference datasets are not at {args.datasets} (use --datasets DIR)",
            file=sys.stderr,
        )
        return 2
    sets = rb.prepare(args.datasets, ROOT / ".qa_store" / "datasets", names)
    seeds_path = ROOT / "eval" / "seeds_qa.jsonl"
    seed_qs = rb.load_questions(seeds_path) if seeds_path.is_file() else []
    embedder = make_embedder(Settings().embed_config)
    res: dict = {
        "meta": {
            "quick": args.quick,
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_start": os.getloadavg(),
            "embedding": embedder.name,
            "settings": Settings().model_dump(include=SHOWN_SETTINGS),
        }
    }

    # ---- our index of each corpus (built once, then an incremental no-op)
    docs = {n: s.docs_dir for n, s in sets.items()} | {"seeds": ROOT / "seeds"}
    engines = {}
    res["index"] = {}
    for name, folder in docs.items():
        with step(f"index {name}"):
            settings = bench_settings(name, folder, work)
            first = ingest(settings.ingest_config, embedder=embedder)
            t0 = time.perf_counter()
            again = ingest(settings.ingest_config, embedder=embedder)
            res["index"][name] = {
                "files": again.unchanged,
                "chunks": again.chunks_total,
                "built_now": bool(first.chunks_embedded),
                "build_s": first.seconds if first.chunks_embedded else None,
                "rerun_s": time.perf_counter() - t0,
            }
            engines[name] = Engine(settings)

    # ---- the llama-index peer
    peers = {}
    if not args.no_llama:
        from llama_peer import LlamaPeer

        for name in names:
            with step(f"llama-index index {name}"):
                peers[name] = LlamaPeer(embedder, work / "llama", f"li_{name}").build(docs[name])
                res["index"][name]["llama_nodes"] = peers[name].n_nodes

    # ---- retrieval quality and latency
    res["retrieval"] = {}
    for name in names:
        with step(f"retrieval {name}"):
            qs = sets[name].questions
            vecs, embed_ms = rb.embed_questions(embedder, qs)
            runs = rb.systems(engines[name].retriever, peers.get(name))
            out = rb.run_systems(runs, qs, vecs)
            out["query_embed"] = rb.latency(embed_ms)
            res["retrieval"][name] = out

    # ---- extractive answers and refusals
    res["answers"] = {}
    asked: dict[str, list[EvalItem]] = {
        n: [q for q in s.questions if q.answerable] for n, s in sets.items()
    }
    if seed_qs:
        asked["seeds"] = [q for q in seed_qs if q.answerable]
    for name, qs in asked.items():
        with step(f"answers {name}"):
            answers, times = ab.ask_all(engines[name], qs)
            out = ab.score_answers(answers, qs, times)
            if name == "squad":
                out["baselines"] = ab.baselines(
                    answers, qs, embedder, work / "cache" / f"sentences-{name}.npz"
                )
            if name == "seeds":
                unanswerable = [q for q in seed_qs if not q.answerable]
                un, _ = ab.ask_all(engines[name], unanswerable)
                out["unanswerable"] = len(unanswerable)
                out["unanswerable_refused"] = ab.refusal_rate(un)
            res["answers"][name] = out
    with step("refusal across corpora"):
        res["refusal"] = {}
        for qset, qs in asked.items():
            for store in engines:
                if store != qset:
                    answers, _ = ab.ask_all(engines[store], qs)
                    res["refusal"][f"{qset}->{store}"] = ab.refusal_rate(answers)

    # ---- ingest throughput, side by side
    res["ingest"] = {}
    slices = [("squad", None, 4)]
    if not args.quick:
        slices.append(("hotpotqa", 1000, 5))
    for name, n_files, parts in slices:
        with step(f"ingest throughput {name}"):
            folders = ingest_bench.make_parts(docs[name], work / "slices" / name, n_files, parts)
            res["ingest"][name] = ingest_bench.run(
                folders, work / "throughput", embedder, llama=not args.no_llama
            )

    # ---- latency against corpus size
    with step("latency at scale"):
        sizes = [1000, 10_000] if args.quick else [1000, 10_000, 100_000]
        args.out.mkdir(parents=True, exist_ok=True)
        plot = args.out / ("latency_scale-quick.png" if args.quick else "latency_scale.png")
        res["scale"] = latency_scale.run(
            work / "scale", sizes, embedder, docs.get("hotpotqa", docs["squad"]), plot
        )
        res["scale_plot"] = str(plot.relative_to(ROOT) if plot.is_relative_to(ROOT) else plot)

    # ---- the app: start-up over seeds/, memory with the biggest corpus indexed
    if not args.no_app and (ROOT / "app.py").is_file():
        with step("app start-up"):
            big = names[-1]
            res["app"] = {
                "seeds": app_bench.start_app(ROOT, ROOT / "seeds", work, "seeds"),
                big: app_bench.start_app(ROOT, docs[big], work, big),
                f"engine_{big}": app_bench.engine_rss(
                    work, big, [q.question for q in sets[big].questions[:50]]
                ),
            }

    res["errors"] = ERRORS
    res["meta"]["seconds"] = time.perf_counter() - t_start
    res["meta"]["load_avg_end"] = os.getloadavg()
    table = render(res)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "bench-quick" if args.quick else "bench"
    (args.out / f"{stem}.json").write_text(json.dumps(res, indent=2, default=float))
    (args.out / f"{stem}.md").write_text(table + "\n")
    log.info("wrote %s and %s (%.0f s in all)", args.out / f"{stem}.json", args.out / f"{stem}.md",
             res["meta"]["seconds"])  # fmt: skip
    return 1 if ERRORS else 0


# ---- the table


def _f(x, digits=3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _ms(x) -> str:
    return "—" if x is None else f"{x:.1f} ms"


def _get(d: dict, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def _ratio(ours, peers: list, higher_better: bool = True) -> str:
    peers = [p for p in peers if p is not None]
    if ours is None or not peers:
        return "—"
    best = max(peers) if higher_better else min(peers)
    if higher_better:
        return f"{ours / best:.2f}×" if best else "—"
    return f"{best / ours:.2f}×" if ours else "—"


def render(res: dict) -> str:
    """The results as a Markdown table, one row per target of issue 7."""
    rows = []
    head = (
        "| what | target | ours | LlamaIndex default | dense only | BM25 only | RRF dense+BM25 "
        "| ours vs best peer |"
    )
    rows += [head, "| --- | --- | --- | --- | --- | --- | --- | --- |"]

    def quality(label, target, name, metric):
        r = _get(res, "retrieval", name)
        if r is None:
            return
        vals = [_get(r, k, metric) for k in ("hybrid", "llama", "dense", "bm25", "rrf")]
        rows.append(
            f"| {label} | {target} | **{_f(vals[0])}** | "
            + " | ".join(_f(v) for v in vals[1:])
            + f" | {_ratio(vals[0], vals[1:])} |"
        )

    quality("SQuAD hit@1", "≥ 0.85", "squad", "hit@1")
    quality("SQuAD hit@5", "≥ 0.97", "squad", "hit@5")
    quality("SQuAD MRR@10", "≥ 0.90", "squad", "mrr@10")
    quality("HotpotQA both gold in top 10", "≥ 0.90", "hotpotqa", "both@10")
    quality("HotpotQA MRR@10 (first gold)", "≥ 0.92", "hotpotqa", "mrr@10")
    quality("HotpotQA hit@1", "—", "hotpotqa", "hit@1")
    quality("HotpotQA hit@5", "—", "hotpotqa", "hit@5")

    sq = _get(res, "answers", "squad")
    if sq:
        b = sq.get("baselines", {})
        rows.append(
            f"| extractive answer contains a reference, SQuAD (≤ 2 sentences; "
            f"{sq['sentences_per_answer']:.2f} on average, {sq['refused']:.1%} refused) | ≥ 0.75 "
            f"| **{_f(sq['contains'])}** | — | best-cosine sentence of top 5: "
            f"{_f(b.get('best_cosine'))} | lead sentence of top passage: {_f(b.get('lead'))} | — "
            f"| {_ratio(sq['contains'], [b.get('best_cosine'), b.get('lead')])} |"
        )
        rows.append(
            f"| token F1 of those answers, SQuAD | — | {_f(sq['f1'])} | — | — | — | — | — |"
        )
    hp = _get(res, "answers", "hotpotqa")
    if hp:
        rows.append(
            f"| extractive answer contains a reference, HotpotQA (multi-hop) | — "
            f"| {_f(hp['contains'])} | — | — | — | — | — |"
        )
    se = _get(res, "answers", "seeds")
    if se:
        rows.append(
            f"| the same on eval/seeds_qa.jsonl ({se['n']} answerable) | ≥ 0.85 "
            f"| **{_f(se['contains'])}** | — | — | — | — | — |"
        )
        rows.append(
            f"| unanswerable seed questions refused ({se['unanswerable']}) | ≥ 0.8 "
            f"| **{_f(se['unanswerable_refused'])}** | — | — | — | — | — |"
        )
    ans_ref = {n: a["refused"] for n, a in res.get("answers", {}).items()}
    if ans_ref:
        rows.append(
            "| answerable questions refused (own corpus) | low | "
            + ", ".join(f"{n} {v:.1%}" for n, v in ans_ref.items())
            + " | — | — | — | — | — |"
        )
    if res.get("refusal"):
        rows.append(
            "| unanswerable questions refused (other corpus) | high | "
            + ", ".join(f"{k} {v:.1%}" for k, v in res["refusal"].items())
            + " | — | — | — | — | — |"
        )

    for name, ing in res.get("ingest", {}).items():
        label = (
            f"ingest throughput vs bare model (file order, batch 32), {name} {ing['files']} files"
        )
        llama = ing.get("llama_vs_bare")
        rows.append(
            f"| {label} | ≥ 1.0 and ≥ 1.3× LlamaIndex | **{_f(ing['ours_vs_bare'], 2)}** "
            f"({ing['ours_s']:.1f} s; bare {ing['bare_s']:.1f} s) | {_f(llama, 2)}"
            + (f" ({ing['llama_s']:.1f} s)" if llama else "")
            + f" | — | — | — | {_f(ing.get('ours_vs_llama'), 2)}× LlamaIndex |"
        )
    for name, ix in res.get("index", {}).items():
        if name == "hotpotqa" or (name == "squad" and "hotpotqa" not in res["index"]):
            rows.append(
                f"| re-run of ingest over unchanged {name} ({ix['files']:,} files) | ≤ 3 s "
                f"| **{ix['rerun_s']:.2f} s** | — | — | — | — | — |"
            )

    for name in ("hotpotqa", "squad"):
        r = _get(res, "retrieval", name)
        if r is None:
            continue
        n_chunks = _get(res, "index", name, "chunks")
        for pct, target in (("p50_ms", "≤ 15 ms"), ("p95_ms", "≤ 30 ms")):
            vals = [_get(r, k, pct) for k in ("hybrid", "dense", "bm25", "rrf")]
            rows.append(
                f"| retrieval latency {pct[:3]}, {name} ({n_chunks:,} chunks), warm, question "
                f"vector given | {target} | **{_ms(vals[0])}** | — | "
                + " | ".join(_ms(v) for v in vals[1:])
                + f" | {_ratio(vals[0], [vals[3]], higher_better=False)} RRF |"
            )
        for pct in ("p50_ms", "p95_ms"):
            ours, llama = _get(r, "hybrid_embedding", pct), _get(r, "llama", pct)
            rows.append(
                f"| retrieval latency {pct[:3]} including embedding the question, {name} | — "
                f"| {_ms(ours)} | {_ms(llama)} | — | — | — "
                f"| {_ratio(ours, [llama], higher_better=False)} LlamaIndex |"
            )
        break
    for row in res.get("scale", []):
        target = "≤ 50 ms" if row["chunks"] >= 100_000 else "—"
        rows.append(
            f"| hybrid retrieval p50 / p95 at {row['chunks']:,} chunks (synthetic vectors) "
            f"| {target} | **{_ms(row['p50_ms'])}** / {_ms(row['p95_ms'])} | — | — | — | — | — |"
        )
    for name in ("hotpotqa", "squad"):
        a = _get(res, "answers", name)
        if a:
            rows.append(
                f"| extractive answer end to end (question → Answer), p50 / p95, {name} "
                f"| ≤ 50 ms (HotpotQA) | **{_ms(a['p50_ms'])}** / {_ms(a['p95_ms'])} "
                "| — | — | — | — | — |"
            )
            break
    app = res.get("app", {})
    for key, val in app.items():
        if "error" in val:
            rows.append(f"| app {key} | — | error: {val['error'][:80]} | — | — | — | — | — |")
        elif key == "seeds":
            rows.append(
                f"| `python app.py` to a ready page over indexed seeds/ | ≤ 6 s "
                f"| **{val['ready_s']:.1f} s** ({val['rss_mb']:.0f} MB) | — | — | — | — | — |"
            )
        elif key.startswith("engine_"):
            rows.append(
                f"| memory of the engine alone after 50 questions, {key[7:]} | — "
                f"| {val['rss_mb']:.0f} MB RSS (peak {val['peak_mb']:.0f} MB) "
                "| — | — | — | — | — |"
            )
        else:
            rows.append(
                f"| `python app.py` RSS with {key} indexed (ready in {val['ready_s']:.1f} s) "
                f"| ≤ 700 MB | **{val['rss_mb']:.0f} MB** (peak {val['peak_mb']:.0f} MB) "
                "| — | — | — | — | — |"
            )
    meta = res["meta"]
    rows.append("")
    for name, error in res.get("errors", {}).items():
        rows.append(f"**{name} failed**: {error}  ")
    rows.append(
        f"{'Quick run' if meta['quick'] else 'Full run'} {meta['date']}, {meta['cpus']} CPUs, "
        f"load average {meta['load_avg_start'][0]:.1f} at start, {meta['seconds'] / 60:.1f} min; "
        f"embedding {meta['embedding']}. Ratios: ours ÷ best peer for quality, "
        "best peer ÷ ours for time (> 1 = ours better)."
    )
    return "\n".join(rows)


if __name__ == "__main__":
    sys.exit(main())
