"""Speed of the local model server (`qa llm-server`, SmolLM2-135M) and of generated answers.

    python eval/llm_speed.py                 # threads 1 and 2, 5 seed questions; ~4 min on 2 busy cores
    python eval/llm_speed.py --threads 1 -n 3

For each thread count a fresh server is started on 127.0.0.1 and a free port. Each seed question
is answered twice from the same prompt (top-3 passages, as the tests use): "cold" is the first
time the server sees that prompt, "warm" the repeat, where llama.cpp reuses the cached prompt.
Then the whole pipeline (`Engine.ask`) is timed with the model and without it (extractive).
Prints a Markdown table and writes ``eval/out/llm_speed.json``. Timings on a shared CPU are
noisy: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's code is what gets measured
for _var in list(os.environ):
    if _var.startswith("QA_") or _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(_var)

from deploy.procs import free_port, stop_process, wait_http  # noqa: E402
from index.offline import quiet  # noqa: E402

quiet()

MODEL = "smollm2"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="server thread counts")
    p.add_argument("-n", type=int, default=5, help="seed questions per configuration")
    p.add_argument("--top-k", type=int, default=3, help="passages in each prompt")
    p.add_argument("--max-tokens", type=int, default=64, help="most tokens per answer")
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "out")
    return p.parse_args(argv)


def start_server(threads: int, log_path: Path) -> tuple[subprocess.Popen, str, float]:
    """A `qa llm-server` process, its /v1 URL and how long it took to answer."""
    port = free_port()
    cmd = [sys.executable, "-m", "qa.cli", "llm-server", "--port", str(port)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, "--threads", str(threads)], stdout=log_path.open("w"), stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_http(f"{url}/models", 180, proc, accept_http_errors=True)
    except (RuntimeError, TimeoutError) as exc:
        stop_process(proc)
        raise SystemExit(f"qa llm-server did not start ({exc}); see {log_path}") from None
    return proc, url, time.perf_counter() - t0


def timed_stream(llm, messages) -> dict:
    """Stream one answer: time to first piece, total time, pieces (one token each on llama.cpp)."""
    t0 = time.perf_counter()
    stamps = [time.perf_counter() for _ in llm.stream(messages)]
    total = time.perf_counter() - t0
    n = len(stamps)
    decode = (n - 1) / (stamps[-1] - stamps[0]) if n > 1 and stamps[-1] > stamps[0] else None
    return {
        "ttft_s": stamps[0] - t0 if stamps else total,
        "total_s": total,
        "tokens": n,
        "decode_tps": decode,
    }


def p50(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def main(argv=None) -> int:
    args = parse_args(argv)
    from index.ingest import ingest
    from qa.answer.prompting import build_prompt, token_counter
    from qa.engine import Engine
    from qa.settings import Settings

    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "eval" / "seeds_qa.jsonl").read_text().splitlines()
        if line.strip()
    ][: args.n]
    work = Path(tempfile.mkdtemp(prefix="llm-speed-"))
    base = Settings(store_dir=work / "store", docs_dir=ROOT / "seeds", top_k=args.top_k)
    ingest(base.ingest_config)
    extractive = Engine(base)
    rows = []
    for threads in args.threads:
        proc, url, startup = start_server(threads, work / f"server-{threads}.log")
        try:
            s = base.model_copy(
                update={
                    "openai_base_url": url,
                    "llm_model": MODEL,
                    "llm_max_tokens": args.max_tokens,
                    "llm_context_tokens": 2048,
                    "llm_timeout": 300.0,
                }
            )
            engine = Engine(s)
            count = token_counter(engine.embedder)
            cold, warm, prompt_tokens, gen_ms, ext_ms = [], [], [], [], []
            for q in questions:
                prompt = build_prompt(q, engine.retrieve(q), count, s)
                cold.append(timed_stream(engine.llm, prompt.messages))
                warm.append(timed_stream(engine.llm, prompt.messages))
                prompt_tokens.append(
                    engine.llm.complete(prompt.messages, max_tokens=1).prompt_tokens
                )
            for q in questions:
                gen_ms.append(engine.ask(q + " ").latency_ms)  # a new prompt tail: no cached answer
                ext_ms.append(extractive.ask(q).latency_ms)
        finally:
            stop_process(proc)
        row = {
            "threads": threads,
            "startup_s": startup,
            "questions": len(questions),
            "prompt_tokens": p50(prompt_tokens),
            "cold_ttft_s": p50([r["ttft_s"] for r in cold]),
            "prompt_tps": p50([t / r["ttft_s"] for t, r in zip(prompt_tokens, cold, strict=True)]),
            "warm_ttft_s": p50([r["ttft_s"] for r in warm]),
            "decode_tps": p50([r["decode_tps"] for r in cold + warm]),
            "tokens_out": p50([r["tokens"] for r in cold]),
            "cold_total_s": p50([r["total_s"] for r in cold]),
            "warm_total_s": p50([r["total_s"] for r in warm]),
            "pipeline_generated_ms": p50(gen_ms),
            "pipeline_extractive_ms": p50(ext_ms),
        }
        row["generated_vs_extractive"] = (
            row["pipeline_generated_ms"] / row["pipeline_extractive_ms"]
        )
        rows.append(row)

    print(
        f"\nLocal model server: SmolLM2-135M-Instruct Q4_1, top-{args.top_k} passages, "
        f"max {args.max_tokens} tokens, {len(questions)} seed questions, medians\n"
    )
    print(
        "| threads | start s | prompt tok | prompt tok/s | decode tok/s | TTFT cold s | TTFT warm s "
        "| answer cold s | answer warm s | tokens out | ask() generated ms | ask() extractive ms | ratio |"
    )
    print("|---:" * 13 + "|")
    for r in rows:
        print(
            f"| {r['threads']} | {r['startup_s']:.1f} | {r['prompt_tokens']:.0f} | {r['prompt_tps']:.0f} "
            f"| {r['decode_tps']:.1f} | {r['cold_ttft_s']:.2f} | {r['warm_ttft_s']:.2f} "
            f"| {r['cold_total_s']:.2f} | {r['warm_total_s']:.2f} | {r['tokens_out']:.0f} "
            f"| {r['pipeline_generated_ms']:.0f} | {r['pipeline_extractive_ms']:.0f} "
            f"| {r['generated_vs_extractive']:.0f}x |"
        )
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        print(
            f"\ndecode tok/s, {b['threads']} vs {a['threads']} threads: "
            f"{b['decode_tps'] / a['decode_tps']:.2f}x; prompt tok/s: {b['prompt_tps'] / a['prompt_tps']:.2f}x"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "top_k": args.top_k}
    (args.out / "llm_speed.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(
        f"\n(load average {meta['load_avg'][0]:.1f} on {meta['cpus']} CPUs; "
        f"written to {args.out / 'llm_speed.json'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
