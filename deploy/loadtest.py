"""A bounded load test of a replicated qa-chat through nginx, with an ingest and an upload mid-run.

    python deploy/loadtest.py --url http://127.0.0.1:8080 --replicas URL1 URL2 \
        --chroma http://127.0.0.1:8000 --clients 20 --seconds 60

Each client is a browser-like session (it keeps nginx's sticky cookie) that asks the seed
questions (eval/seeds_qa.jsonl) one after another through Gradio's API, as the page does, and
reads each answer to its end. During the run:

- an ingest (`qa ingest`, as an operator runs it) indexes the seed folder plus new documents;
- an upload of a new document goes to the first replica (its own address), and the second
  replica is asked about it until it answers correctly: the time from the end of the upload to
  that answer is the replicas' lag.

Printed at the end (and written to --out as JSON): requests served, errors, correct answers,
latency p50/p95, requests per replica, the ingest's duration, the upload's lag.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FACT = "The keeper of the Tarvos lighthouse is Marta Ilves."
FACT_QUESTION = "Who is the keeper of the Tarvos lighthouse?"


def _questions() -> list[tuple[str, list[str]]]:
    items = [json.loads(line) for line in (ROOT / "eval" / "seeds_qa.jsonl").open()]
    return [(it["question"], it["answers"]) for it in items if it["answers"]]


def call(client: httpx.Client, api: str, data: list, timeout: float = 120.0) -> tuple[list, str]:
    """Call a Gradio endpoint the way the page does: its final output, and the replica (nginx's
    X-QA-Replica header) that served it."""
    r = client.post(f"/gradio_api/call/{api}", json={"data": data}, timeout=timeout)
    r.raise_for_status()
    replica = r.headers.get("x-qa-replica", "direct")
    event_id = r.json()["event_id"]
    event = None
    with client.stream("GET", f"/gradio_api/call/{api}/{event_id}", timeout=timeout) as s:
        s.raise_for_status()
        for line in s.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                if event == "error":
                    raise RuntimeError(f"{api}: the app reported an error: {line[5:120]}")
                return json.loads(line[5:]), replica
    raise RuntimeError(f"{api}: the event stream ended without a result")


def ask(client: httpx.Client, question: str) -> tuple[str, str]:
    """The answer's HTML as the chat shows it, and the replica that gave it."""
    output, replica = call(client, "respond", [question, [], []])
    chat = output[0]
    return (str(chat[-1]["content"]) if chat else ""), replica


class Load:
    """Clients asking until the deadline; counts and latencies."""

    def __init__(self, url: str, clients: int, seconds: float):
        self.url, self.n, self.seconds = url, clients, seconds
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.correct = 0
        self.replicas: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.questions = _questions()

    def client(self, k: int, deadline: float) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=self.url, timeout=120) as c:
            try:
                c.get("/").raise_for_status()  # the page: nginx's sticky cookie comes with it
            except httpx.HTTPError as exc:
                with self.lock:
                    self.errors[f"page: {type(exc).__name__}"] += 1
                return
            while time.monotonic() < deadline:
                question, answers = rng.choice(self.questions)
                t0 = time.perf_counter()
                try:
                    html, replica = ask(c, question)
                except Exception as exc:
                    with self.lock:
                        self.errors[f"{type(exc).__name__}: {str(exc)[:60]}"] += 1
                    continue
                took = time.perf_counter() - t0
                with self.lock:
                    if "qa-error" in html:
                        self.errors["error shown in the chat"] += 1
                        continue
                    self.latencies.append(took)
                    self.correct += any(a.lower() in html.lower() for a in answers)
                    self.replicas[replica] += 1

    def run(self) -> float:
        """Run the clients to the deadline (each finishes its question); returns the seconds."""
        t0 = time.monotonic()
        deadline = t0 + self.seconds
        threads = [threading.Thread(target=self.client, args=(k, deadline)) for k in range(self.n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.seconds + 300)
        return time.monotonic() - t0


def ingest_during(args: argparse.Namespace, out: dict) -> None:
    """An operator's `qa ingest` of the seed folder plus new documents."""
    folder = Path(args.work) / "corpus"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "seeds", folder)
    rng = random.Random(1)
    for i in range(args.new_docs):
        words = " ".join(rng.choice(["harbor", "ledger", "quartz", "meadow", "signal"])
                         for _ in range(300))  # fmt: skip
        (folder / f"report-{i:03d}.txt").write_text(
            f"Field report {i}\n\nReport {i} notes {words}."
        )
    env = {**os.environ, "QA_CHROMA_URL": args.chroma, "QA_COLLECTION": args.collection,
           "QA_STORE_DIR": str(Path(args.work) / "operator-store")}  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "qa.cli", "ingest", str(folder)], cwd=ROOT,
                          env=env, capture_output=True, text=True)  # fmt: skip
    out.update(ingest_seconds=round(time.perf_counter() - t0, 1), ingest_rc=proc.returncode,
               ingest_report=(proc.stdout or proc.stderr).strip().splitlines()[-1:])  # fmt: skip


def upload_during(args: argparse.Namespace, out: dict) -> None:
    """Upload a new document to replica 1, then ask replica 2 until it answers from it."""
    path = Path(args.work) / "tarvos-log.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Tarvos lighthouse log\n\n{FACT}\n")
    first, second = args.replicas[0], args.replicas[-1]
    t0 = time.perf_counter()
    with httpx.Client(base_url=first, timeout=300) as c:
        with path.open("rb") as fh:
            r = c.post("/gradio_api/upload", files={"files": (path.name, fh, "text/plain")})
        r.raise_for_status()
        server_path = r.json()[0]
        files = [
            {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}
        ]
        status = call(c, "upload", [files], 300)[0][0]
    uploaded = time.perf_counter()
    out.update(upload_seconds=round(uploaded - t0, 2), upload_status="Added" in str(status))
    with httpx.Client(base_url=second, timeout=120) as c:
        while time.perf_counter() - uploaded < 120:
            if "Marta Ilves" in ask(c, FACT_QUESTION)[0]:
                out["upload_to_answer_on_other_replica_s"] = round(
                    time.perf_counter() - uploaded, 2
                )
                return
            time.sleep(0.2)
    out["upload_to_answer_on_other_replica_s"] = None


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of the values, 0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Load test of replicas behind nginx.")
    p.add_argument("--url", required=True, help="nginx's address")
    p.add_argument("--replicas", nargs="+", required=True, help="each replica's own address")
    p.add_argument("--chroma", required=True, help="the Chroma server (for the ingest)")
    p.add_argument("--collection", default="documents")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--new-docs", type=int, default=40, help="documents the mid-run ingest adds")
    p.add_argument("--work", default=str(ROOT / "deploy" / "run" / "load"))
    p.add_argument("--out", help="write the figures here as JSON")
    args = p.parse_args(argv)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    load = Load(args.url, args.clients, args.seconds)
    side: dict = {}
    jobs = [threading.Timer(args.seconds * 0.15, ingest_during, (args, side)),
            threading.Timer(args.seconds * 0.3, upload_during, (args, side))]  # fmt: skip
    for j in jobs:
        j.start()
    wall = load.run()
    for j in jobs:  # the ingest may outlast the load
        j.join()
    served = len(load.latencies)
    figures = {
        "clients": args.clients,
        "seconds": round(wall, 1),
        "requests_served": served,
        "errors": sum(load.errors.values()),
        "error_kinds": dict(load.errors),
        "correct_answers": load.correct,
        "p50_ms": round(percentile(load.latencies, 50) * 1000),
        "p95_ms": round(percentile(load.latencies, 95) * 1000),
        "requests_per_s": round(served / wall, 2),
        "served_per_replica": dict(load.replicas),
        **side,
    }
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2))
    return 0 if figures["errors"] == 0 and side.get("upload_status") else 1


if __name__ == "__main__":
    sys.exit(main())
