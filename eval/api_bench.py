"""What the HTTP API costs on top of the engine: the same questions asked in process
(``Engine.ask``) and through ``POST /v1/chat/completions`` of a running ``qa serve`` (the
official ``openai`` client, plain and streaming), taking turns question by question.

    python eval/api_bench.py [--rounds 5]

Prints p50 / p95 per way and the ratios to in-process; timings on a shared CPU are noisy, so
compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = (
    "Who did Blinken meet in Munich?",
    "Who is the State Department spokesman?",
    "What did Wang call the US response?",
    "Where is Wang expected to travel after Munich?",
    "What is the boiling point of tungsten?",  # refused
)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> int:
    """Run the comparison and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="times each question is asked each way")
    args = p.parse_args()

    from index.offline import quiet

    quiet()
    import openai

    from deploy.procs import free_port, stop_process, wait_http
    from qa.engine import get_engine
    from qa.http.server import prepare_engine
    from qa.settings import Settings

    store = Path(tempfile.mkdtemp(prefix="api-bench-"))
    settings = Settings(store_dir=store, docs_dir=ROOT / "seeds")
    prepare_engine(settings)
    engine = get_engine(settings)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_STORE_DIR=str(store), QA_DOCS_DIR=str(ROOT / "seeds"), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--no-ingest", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", timeout=120, proc=proc)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", max_retries=0)

        def api(q: str) -> None:
            client.chat.completions.create(
                model="documents", messages=[{"role": "user", "content": q}]
            )

        def api_stream(q: str) -> None:
            for _ in client.chat.completions.create(
                model="documents", messages=[{"role": "user", "content": q}], stream=True
            ):
                pass

        ways = {"in process (Engine.ask)": engine.ask, "API": api, "API, streaming": api_stream}
        for fn in ways.values():  # warm up each way once
            fn(QUESTIONS[0])
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for q in QUESTIONS:
                for name, fn in ways.items():  # taking turns: load drifts hit all alike
                    t0 = time.perf_counter()
                    fn(q)
                    times[name].append((time.perf_counter() - t0) * 1000)
    finally:
        stop_process(proc)
    base = statistics.median(times["in process (Engine.ask)"])
    print(f"{'way':<26}{'p50 ms':>10}{'p95 ms':>10}{'p50 vs in process':>20}")
    for name, values in times.items():
        p50 = statistics.median(values)
        print(f"{name:<26}{p50:>10.1f}{percentile(values, 95):>10.1f}{p50 / base:>19.2f}x")
    n = len(times["API"])
    print(f"\n{n} questions per way (seeds/, extractive answers), load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
