"""Data preparation: every domain's evaluation cases and training questions, deterministic.

    python eval/reader/prepare.py                      # the six domains and the extra data
    python eval/reader/prepare.py --domains squad,hotpotqa --seed reader-2026-12-04

Per domain it reads ``eval/cases.py``'s cases (the product's fused top 10 for every question,
answerable and near-miss, cached in ``.qa_store/cases-minilm.pkl``), records today's heuristic
answer, and writes ``eval/out/reader/data/<domain>/cases.jsonl.gz`` (evaluation, both halves)
and ``train.jsonl.gz`` (the tune half + the domain's training pool: passages with labels; never a
test half; ``domains.py``, ``pools.py``). Extra general data (``--extra``, files
``*.jsonl.gz`` in the pool format) goes to ``data/extra-<set>/train.jsonl.gz``: trained on by every
model but the one that leaves out the domain it was drawn from (``EXTRA_DOMAIN``).
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import domains
import pools
import product

SEED = "reader-2026-12-04"
OUT = product.ROOT / "eval" / "out" / "reader" / "data"
EXTRA = product.DATASETS / "train-extra"
# Extra sets drawn from an evaluation domain's source (eval/datasets/README.md, "Domain"): left
# out with that domain in its leave-one-domain-out model. The others are of no domain.
EXTRA_DOMAIN = {"squad-dev": "squad", "cuad-clauses": "cuad"}
# Questions drawn per extra set (CPU time: preparing takes ~0.25 s a question on 2 cores).
EXTRA_QUESTIONS = {"squad-dev": 1200, "natural-questions": 1200, "quoref": 2200,
                   "fairytaleqa": 4000, "wikitablequestions": 2000, "cuad-clauses": 600}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--domains", default=",".join(product.DOMAINS))
    ap.add_argument("--seed", default=SEED, help="draws negatives (default %(default)s)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--pool-questions", type=int, default=pools.POOL_QUESTIONS,
                    help="questions drawn from a training pool (default %(default)s)")  # fmt: skip
    ap.add_argument("--extra", type=Path, default=EXTRA,
                    help="folder of extra general training sets (default %(default)s)")  # fmt: skip
    ap.add_argument("--extra-questions", type=int, default=600, help="per set not listed")
    ap.add_argument("--no-cases", action="store_true", help="pools and extra data only")
    ap.add_argument("--extras", default="", help="comma-separated extra sets (default: every one)")
    ap.add_argument(
        "--take",
        default="",
        help="questions per extra set, e.g. fairytaleqa=8125 "
        "(overrides EXTRA_QUESTIONS; more than the set holds: all of it)",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("httpx", "chromadb", "bm25s", "index", "qa"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    print("command: python eval/reader/prepare.py " + shlex.join(sys.argv[1:]), flush=True)
    take = {k: int(v) for k, v in (t.split("=") for t in args.take.split(",") if t)}
    emb = product.embedder()
    names = [d for d in args.domains.split(",") if d]
    all_cases = [] if args.no_cases else product.cases()
    for name in names:
        t0 = time.perf_counter()
        out = args.out / name
        counts = {}
        if not args.no_cases:
            counts = domains.build_domain(name, all_cases, out, args.seed, emb)
        pool = product.dataset_folder(name) / "train.jsonl.gz"
        if pool.is_file():
            rows = pools.pool_questions(name, [pool], emb, args.seed, args.pool_questions)
            train = domains.read_jsonl(out / "train.jsonl.gz") if not args.no_cases else []
            train = [t for t in train if not t["id"].startswith("pool:")] + rows
            domains.write_jsonl(out / "train.jsonl.gz", train)
            counts.update(pool_questions=len(rows),
                          pool_passages=sum(len(t["passages"]) for t in rows))  # fmt: skip
        counts["seconds"] = round(time.perf_counter() - t0, 1)
        print(name, json.dumps(counts), flush=True)
        (out / "summary.json").write_text(json.dumps(dict(counts, seed=args.seed), indent=1) + "\n")
    for path in sorted(args.extra.glob("*.jsonl.gz")) if args.extra.is_dir() else []:
        t0 = time.perf_counter()
        stem = path.name.removesuffix(".jsonl.gz")
        if args.extras and stem not in args.extras.split(","):
            continue
        limit = {**EXTRA_QUESTIONS, **take}.get(stem, args.extra_questions)
        rows = pools.pool_questions(f"extra-{stem}", [path], emb, args.seed, limit, whole=False)
        out = args.out / f"extra-{stem}"
        out.mkdir(parents=True, exist_ok=True)
        domains.write_jsonl(out / "train.jsonl.gz", rows)
        counts = dict(file=path.name, questions=len(rows), leave_out_with=EXTRA_DOMAIN.get(stem),
                      passages=sum(len(t["passages"]) for t in rows),
                      seconds=round(time.perf_counter() - t0, 1))  # fmt: skip
        print(f"extra-{stem}", json.dumps(counts), flush=True)
        (out / "summary.json").write_text(json.dumps(dict(counts, seed=args.seed), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
