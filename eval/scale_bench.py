"""Figures at a million chunks: the embedded store and a Chroma server, at 100k / 300k / 1M chunks.

    python eval/scale_bench.py                        # both stores, 100k, 300k, 1M (hours on 2 cores)
    python eval/scale_bench.py --sizes 100000 --stores embedded --before

Chunks are synthetic (random unit vectors; texts of real words drawn with a Zipf law from the
vocabulary of the bundled reference sets; four chunks a document, each document titled), so a
million of them are written in minutes instead of embedded for days. Per store and size:

- write/s: chunks written per second through the ingest's write path (``Store.upsert`` in the
  store's batches, then the generation bump), vectors given;
- kw build s: the keyword index built from the whole collection; kw load s: opening it;
- ready s: a fresh process, from its start to its first hybrid answer (imports, embedding
  model, store check, keyword index, the first question embedded and answered);
- hybrid p50/p95 ms, dense and BM25 p50 ms: retrieval with the question's vector given, warm,
  over 60 questions of 8 words drawn like the texts;
- RSS MB: that process after the questions (and its peak).

``--before`` adds the keyword index as it was (eval/keyword_v1.py: a JSON copy of every chunk,
loaded whole, BM25 rebuilt in memory at each load) through the same retriever, in its own
process with an address-space limit (``--before-limit-gb``) so that it cannot take the machine.
Stores are kept in --dir and grown in place (100k, then 300k, then 1M): a second run reuses them.
Results: a table on stdout, eval/out/scale_bench.json and .md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from index.offline import quiet  # noqa: E402

DIM = 384
WORDS_PER_CHUNK = 120
CHUNKS_PER_DOC = 4
QUESTIONS = 60
WRITE_BATCH = 20_000
log = logging.getLogger("scale_bench")


def vocabulary(size: int = 50_000) -> list[str]:
    """Words of the bundled reference sets, most frequent first."""
    import re

    counts: Counter[str] = Counter()
    squad = json.loads((ROOT / "eval/datasets/squad-expmrc/expmrc-squad-dev.json").read_text())
    texts = [p["context"] for a in squad["data"] for p in a["paragraphs"]]
    for line in (ROOT / "eval/datasets/hotpotqa-dev500/dev_subsampled.jsonl").open():
        texts += [c.get("paragraph_text", "") for c in json.loads(line).get("contexts", [])]
    for t in texts:
        counts.update(w.lower() for w in re.findall(r"[A-Za-z]+", t))
    return [w for w, _ in counts.most_common(size)]


def texts(rng: np.random.Generator, words: list[str], n: int, length: int) -> list[str]:
    """n texts of ``length`` words drawn with a Zipf law (rank 1 most often)."""
    ranks = np.minimum(rng.zipf(1.15, size=(n, length)), len(words)) - 1
    return [" ".join(words[i] for i in row) for row in ranks]


def _settings(store: str, where: Path, url: str | None):
    from qa.settings import Settings

    # A bulk load over a busy server: calls and the writer's lease are given more time.
    return Settings(store_dir=where / store / "store", collection="scale", chroma_url=url,
                    docs_dir=where, chroma_timeout=300, lock_ttl=600)  # fmt: skip


def grow(settings, n: int, words: list[str], embedder) -> dict:
    """Write synthetic chunks until the collection holds n; the write rate of what was added."""
    from index.store import open_store
    from index.types import Chunk

    store = open_store(settings.store_config, embedder.name, embedder.dim)
    have = store.count()
    t0 = time.perf_counter()
    with store.write_lock():
        for s in range(have, n, WRITE_BATCH):
            m = min(WRITE_BATCH, n - s)
            rng = np.random.default_rng(s)
            vecs = rng.standard_normal((m, DIM)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            chunks = []
            for j, text in enumerate(texts(rng, words, m, WORDS_PER_CHUNK)):
                i = s + j
                doc = i // CHUNKS_PER_DOC
                start = (i % CHUNKS_PER_DOC) * 1000
                chunks.append(Chunk(f"c{i:09d}", f"synthetic/{doc:07d}.txt", start,
                                    start + len(text), text, f"h{doc}", i % CHUNKS_PER_DOC,
                                    CHUNKS_PER_DOC, f"Synthetic {doc}"))  # fmt: skip
            store.upsert(chunks, vecs)
            log.info("%s: %d of %d chunks", store.where, s + m, n)
        if n > have:
            store.bump_generation()  # unknown sources: every keyword index builds afresh
    seconds = time.perf_counter() - t0
    return {"added": n - have, "write_per_s": round((n - have) / seconds) if n > have else None}


def build_keyword(settings, embedder) -> float:
    """Seconds to build the keyword index of the whole collection."""
    from index.keyword import KeywordIndex
    from index.store import open_store

    store = open_store(settings.store_config, embedder.name, embedder.dim)
    t0 = time.perf_counter()
    KeywordIndex.for_store(store, rebuild=True)
    return time.perf_counter() - t0


def _memory() -> tuple[float, float]:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024)


def probe(args: argparse.Namespace) -> None:
    """In a fresh process: ready time, load time, latencies and memory; prints one JSON line."""
    started = float(args.started)
    quiet()
    from index.corpus import Corpus
    from index.embed import make_embedder
    from qa.evaluation.metrics import percentile
    from qa.retrieval.hybrid import Retriever

    settings = _settings(args.store, Path(args.dir), args.url)
    embedder = make_embedder(settings.embed_config)
    words = vocabulary()
    rng = np.random.default_rng(7)
    questions = texts(rng, words[:5000], QUESTIONS + 5, 8)
    figures: dict = {}
    t0 = time.perf_counter()
    if args.design == "before":
        from keyword_v1 import KeywordIndexV1

        from index.store import open_store

        corpus = Corpus.__new__(Corpus)  # the same corpus, with the old keyword index in it
        corpus.config, corpus.embedder = settings.store_config, embedder
        corpus.store = open_store(settings.store_config, embedder.name, embedder.dim)
        path = Path(args.dir) / args.store / f"keyword_v1-{corpus.store.count()}.json"
        if not path.exists():  # as the old ingest did: every chunk read, indexed, saved
            tb = time.perf_counter()
            chunks = corpus.store.all_chunks()
            KeywordIndexV1(chunks, corpus.store.generation).save(path)
            figures["kw_build_s"] = round(time.perf_counter() - tb, 1)
            print(json.dumps(figures))
            return
        tk = time.perf_counter()
        corpus._keyword = KeywordIndexV1.load(path)
    else:
        from index.keyword import KeywordIndex

        corpus = Corpus(settings.store_config, embedder)
        tk = time.perf_counter()
        KeywordIndex.load(settings.store_config)  # what opening took, measured again alone
    figures["kw_load_s"] = round(time.perf_counter() - tk, 2)
    figures["open_s"] = round(time.perf_counter() - t0, 1)
    retriever = Retriever(settings, corpus)
    retriever.search(questions[0], k=10)  # the first answer: the app is ready
    ready = time.time() - started
    vecs = rng.standard_normal((len(questions), DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    times: dict[str, list[float]] = {"hybrid": [], "dense": [], "bm25": []}
    for i, (q, v) in enumerate(zip(questions, vecs, strict=True)):
        for mode in times:
            t = time.perf_counter()
            retriever.search(q, k=10, mode=mode, vector=v)
            if i >= 5:
                times[mode].append((time.perf_counter() - t) * 1000)
    rss, peak = _memory()
    print(json.dumps({
        **figures, "chunks": len(corpus), "ready_s": round(ready, 1),
        "hybrid_p50_ms": round(percentile(times["hybrid"], 50), 1),
        "hybrid_p95_ms": round(percentile(times["hybrid"], 95), 1),
        "dense_p50_ms": round(percentile(times["dense"], 50), 1),
        "bm25_p50_ms": round(percentile(times["bm25"], 50), 1),
        "rss_mb": round(rss), "peak_mb": round(peak),
    }))  # fmt: skip


def run_probe(args, store: str, url: str | None, design: str) -> dict:
    """Run ``probe`` in a fresh process (the old design under an address-space limit)."""
    cmd = [sys.executable, __file__, "--probe", "--store", store, "--dir", args.dir,
           "--design", design, "--started", repr(time.time())]  # fmt: skip
    if url:
        cmd += ["--url", url]
    limit = int(args.before_limit_gb * (1 << 30))

    def cap() -> None:
        if design == "before":
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, preexec_fn=cap,
                          env=quiet(dict(os.environ)))  # fmt: skip
    if proc.returncode:
        tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
        memory = "MemoryError" in proc.stderr or "bad_alloc" in proc.stderr
        why = f"over {args.before_limit_gb:g} GB" if memory else tail[0][:120]
        return {"failed": why}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_server(folder: Path):
    """A `chroma run` for the server-store rows; returns (process, URL)."""
    import shutil

    from deploy.procs import free_port, wait_http

    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    log_file = (folder / "server.log").open("a")
    proc = subprocess.Popen([exe, "run", "--path", str(folder / "data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log_file, stderr=subprocess.STDOUT,
                            env=quiet(dict(os.environ)))  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/api/v2/heartbeat", timeout=300, proc=proc)
    return proc, url


def _server_rss(proc) -> int:
    text = Path(f"/proc/{proc.pid}/status").read_text()
    return round(int(text.split("VmRSS:")[1].split()[0]) / 1024)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Figures at a million chunks.")
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    p.add_argument("--stores", nargs="+", default=["embedded", "server"],
                   choices=["embedded", "server"])  # fmt: skip
    p.add_argument("--dir", default=str(ROOT / ".qa_store" / "scale"))
    p.add_argument("--before", action="store_true", help="also the old keyword index")
    p.add_argument("--before-limit-gb", type=float, default=12.0)
    p.add_argument("--no-build", action="store_true",
                   help="keep a keyword index that is current (time only the rest)")  # fmt: skip
    p.add_argument("--out", default=str(ROOT / "eval" / "out"))
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--store", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--design", default="after", help=argparse.SUPPRESS)
    p.add_argument("--started", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.probe:
        probe(args)
        return 0
    quiet()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("httpx", "chromadb", "index"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from index.embed import make_embedder
    from qa.settings import Settings

    embedder = make_embedder(Settings().embed_config)
    words = vocabulary()
    rows = []
    where = Path(args.dir)
    for kind in args.stores:
        server = None
        url = None
        if kind == "server":
            server, url = start_server(where / "server" / "chroma")
        try:
            for n in sorted(args.sizes):
                settings = _settings(kind, where, url)
                row = {"store": kind, "size": n, **grow(settings, n, words, embedder)}
                if not args.no_build:
                    row["kw_build_s"] = round(build_keyword(settings, embedder), 1)
                row.update(run_probe(args, kind, url, "after"))
                if server is not None:
                    row["server_rss_mb"] = _server_rss(server)
                rows.append(row)
                log.info("%s", row)
                if args.before:  # once to build its JSON copy, once more to start from it
                    built = run_probe(args, kind, url, "before")
                    before = run_probe(args, kind, url, "before") if "failed" not in built else {}
                    rows.append({"store": kind, "size": n, "design": "before (JSON + bm25s)",
                                 **built, **before})  # fmt: skip
                    log.info("%s", rows[-1])
                _write(rows, Path(args.out))
        finally:
            if server is not None:
                server.terminate()
                server.wait(60)
    print(_table(rows))
    return 0


COLUMNS = [
    ("store", "store"), ("size", "chunks"), ("design", "keyword index"),
    ("write_per_s", "write/s"), ("kw_build_s", "kw build s"), ("kw_load_s", "kw load s"),
    ("open_s", "open s"), ("ready_s", "ready s"), ("hybrid_p50_ms", "hybrid p50 ms"), ("hybrid_p95_ms", "p95 ms"),
    ("dense_p50_ms", "dense p50"), ("bm25_p50_ms", "BM25 p50"), ("rss_mb", "RSS MB"),
    ("peak_mb", "peak MB"), ("server_rss_mb", "server RSS MB"), ("failed", "failed"),
]  # fmt: skip


def _table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(label for _, label in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]  # fmt: skip
    for r in rows:
        cells = [r.get(k, "after (memory-mapped)" if k == "design" else "") for k, _ in COLUMNS]
        lines.append(
            "| " + " | ".join(f"{c:,}" if isinstance(c, int) else str(c) for c in cells) + " |"
        )
    return "\n".join(lines)


def _write(rows: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    load = os.getloadavg()[0]
    (out / "scale_bench.json").write_text(
        json.dumps({"when": stamp, "load": load, "rows": rows}, indent=2)
    )
    (out / "scale_bench.md").write_text(
        f"{_table(rows)}\n\n{stamp}, {os.cpu_count()} CPUs, load average {load:.1f}\n"
    )


if __name__ == "__main__":
    sys.exit(main())
