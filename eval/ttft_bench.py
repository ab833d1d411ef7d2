"""Time to first token of generated answers, before and after issue 25, side by side in one run.

    python eval/ttft_bench.py            # 12 seed questions, ~4 min on 2 busy cores
    python eval/ttft_bench.py -n 20 --threads 1

One fresh `qa llm-server` (SmolLM2-135M, as shipped) serves both layouts, alternated question by
question (before/after, then after/before), so both see the same machine at the same moments:

- before: the prompt of eval/prompt_v1.py: the top-5 passages whole, inside the system message,
  demonstrations quoting them (only the rules could be cached);
- after: ``qa.answer.prompting``: fixed instructions and demonstrations first (the server keeps
  them evaluated), then only the evidence: the best sentences and their neighbours.

Each time runs from the question to the first piece of answer text: retrieval, the prompt, the
server reading it. The first request of each layout is reported apart (cold: nothing cached).
Also whether the answer holds a reference answer (the seed set's), so speed is not bought with
worse answers. Machines here are shared and noisy: compare the ratio within one run.
Prints a Markdown table and writes ``eval/out/ttft.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's code is what gets measured
for _var in list(os.environ):
    if _var.startswith("QA_") or _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(_var)

from deploy.procs import stop_process  # noqa: E402
from index.offline import quiet  # noqa: E402

quiet()
MODEL = "smollm2"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-n", type=int, default=12, help="seed questions")
    p.add_argument("--threads", type=int, default=1, help="server threads (as shipped: 1)")
    p.add_argument("--max-tokens", type=int, default=48, help="most tokens per answer")
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    return p.parse_args(argv)


def contains(answer: str, references: list[str]) -> bool:
    from qa.evaluation.metrics import normalize

    text = normalize(answer)
    return any(normalize(r) and normalize(r) in text for r in references)


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT / "eval"))
    from llm_speed import start_server
    from prompt_v1 import build_prompt_v1

    from index.ingest import ingest
    from qa.answer.extract import score_sentences
    from qa.answer.prompting import build_prompt, token_counter
    from qa.engine import Engine
    from qa.settings import Settings

    items = [
        json.loads(line)
        for line in (ROOT / "eval" / "seeds_qa.jsonl").read_text().splitlines()
        if line.strip()
    ]
    items = [i for i in items if i["answers"]][: args.n]
    work = Path(tempfile.mkdtemp(prefix="ttft-"))
    base = Settings(store_dir=work / "store", docs_dir=ROOT / "seeds")
    ingest(base.ingest_config)
    proc, url, _ = start_server(args.threads, work / "server.log")
    try:
        s = base.model_copy(update={
            "openai_base_url": url, "llm_model": MODEL, "llm_max_tokens": args.max_tokens,
            "llm_context_tokens": 2048, "llm_timeout": 300.0, "llm_deadline": 600.0,
        })  # fmt: skip
        engine = Engine(s)
        count = token_counter(engine.embedder)

        def before(q: str):
            passages = engine.retrieve(q)
            return build_prompt_v1(q, passages, count, 2048, args.max_tokens)

        def after(q: str):
            passages = engine.retrieve(q)
            weights = engine.corpus.weights(q)
            best = [(x.passage, x.span) for x in score_sentences(q, passages, weights)]
            prompt = build_prompt(q, passages, count, s, best)
            return list(prompt.messages), prompt.tokens

        layouts = {"before": before, "after": after}
        rows: list[dict] = []
        for k, item in enumerate(items):
            order = ["before", "after"] if k % 2 == 0 else ["after", "before"]
            for name in order:
                t0 = time.perf_counter()
                messages, tokens = layouts[name](item["question"])
                first, text = None, ""
                for piece in engine.llm.stream(messages, max_tokens=args.max_tokens):
                    first = first or time.perf_counter() - t0
                    text += piece
                rows.append({
                    "layout": name, "question": item["question"], "cold": k == 0,
                    "ttft_s": first, "total_s": time.perf_counter() - t0, "prompt_tokens": tokens,
                    "contains": contains(text, item["answers"]), "answer": text,
                })  # fmt: skip
                print(f"{name:6} {rows[-1]['ttft_s']:5.2f} s  {tokens:5d} tok  "
                      f"{'✓' if rows[-1]['contains'] else '·'}  {item['question'][:60]}",
                      flush=True)  # fmt: skip
    finally:
        stop_process(proc)
    summary = {}
    for name in layouts:
        mine = [r for r in rows if r["layout"] == name]
        warm = [r for r in mine if not r["cold"]]
        summary[name] = {
            "cold_ttft_s": next(r["ttft_s"] for r in mine if r["cold"]),
            "ttft_p50_s": statistics.median(r["ttft_s"] for r in warm),
            "ttft_max_s": max(r["ttft_s"] for r in warm),
            "prompt_tokens_p50": statistics.median(r["prompt_tokens"] for r in warm),
            "contains": sum(r["contains"] for r in mine) / len(mine),
        }
    b, a = summary["before"], summary["after"]
    print(f"\nSmolLM2-135M (qa llm-server, {args.threads} thread), {len(items)} seed questions, "
          "layouts alternated; times from the question to the first word\n")  # fmt: skip
    print("| | before | after | after / before |\n|---|---:|---:|---:|")
    for key, label in (("ttft_p50_s", "time to first token, median (s)"),
                       ("ttft_max_s", "time to first token, slowest (s)"),
                       ("cold_ttft_s", "first request after start, cold (s)"),
                       ("prompt_tokens_p50", "prompt tokens, median (estimate)"),
                       ("contains", "answers holding a reference answer")):  # fmt: skip
        print(f"| {label} | {b[key]:.2f} | {a[key]:.2f} | {a[key] / b[key]:.2f} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ttft.json").write_text(
        json.dumps({"summary": summary, "rows": rows}, indent=2, ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
