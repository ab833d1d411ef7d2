"""Training questions from training pools and extra general data, with retrieval negatives.

A pool is one or more gzipped JSONL files of lines ``{"id", "question", "context", "answers":
[{"text", "start"}]}``: a domain's ``eval/datasets/<folder>/train.jsonl.gz`` (questions over
documents outside its evaluation subset) or the extra general sets
(``eval/datasets/train-extra/*.jsonl.gz``). A row whose id ends ``-none`` is an answer-less window
of the same document asked the same question.

Every distinct window of a pool becomes a document of an index of its own (the product's
ingest, ``.qa_store/reader/``), and each question is asked of it with the product's fused
retrieval. Per question: positives are the chunks of its window holding the answer; negatives,
hardest first, are the retrieved chunks that lack every answer (up to RETRIEVED_NEGATIVES), then
the other chunks of its own windows, then more retrieved ones. A retrieved chunk of another
window that holds an answer string is not counted either way.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

import product
from domains import NEGATIVES, RETRIEVED_NEGATIVES, cut, label, rng_for

POOL_QUESTIONS = 1500  # questions drawn from one pool (CUAD's has ~4,000: CPU time)


def read_rows(paths: list[Path]) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    rows[r["id"]] = r
    return rows


def doc_name(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16] + ".txt"


def pool_questions(name: str, paths: list[Path], emb, seed: str, limit: int = POOL_QUESTIONS,
                   whole: bool = True) -> list[dict]:  # fmt: skip
    """The pool's questions (at most ``limit``, drawn with the seed) as training questions.

    ``whole``: every window of the pool is a document of the index (the retrieval's haystack);
    otherwise only the windows of the questions drawn (a large extra set: embedding time).
    """
    rows = read_rows(paths)
    grouped: dict[str, list[dict]] = defaultdict(list)
    for r in rows.values():
        grouped[r["id"].removesuffix("-none")].append(r)
    qids = sorted(grouped)
    if len(qids) > limit:
        qids = sorted(random.Random(f"{seed} {name} pool").sample(qids, limit))
    docs_dir = product.STORE / "pool-docs" / name
    docs_dir.mkdir(parents=True, exist_ok=True)
    texts: dict[str, str] = {}
    haystack = rows.values() if whole else [r for q in qids for r in grouped[q]]
    for r in haystack:
        texts.setdefault(doc_name(r["context"]), r["context"])
    for fname, text in texts.items():
        path = docs_dir / fname
        if not path.is_file():
            path.write_text(text, encoding="utf-8")
    for stale in docs_dir.glob("*.txt"):  # an earlier, other draw: not this haystack
        if stale.name not in texts:
            stale.unlink()
    engine = product.open_engine(f"pool-{name}", docs_dir, emb)
    chunks = product.chunker(emb)
    out = []
    for n, qid in enumerate(qids):
        if n % 500 == 0:
            product.log.info("%s: %d of %d pool questions", name, n, len(qids))
        rs = grouped[qid]
        answers = [a["text"] for r in rs for a in r["answers"]]
        spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
        own: set[str] = set()
        for r in rs:
            src = doc_name(r["context"])
            own.add(src)
            spans[src] += [(a["start"], a["start"] + len(a["text"])) for a in r["answers"]]
        gold = {s for s in own if spans[s]}
        seen: set[tuple[str, int, int]] = set()
        pos, own_neg, retrieved_neg = [], [], []

        def add(p: dict, bucket: list, gold=gold, spans=spans, answers=answers, seen=seen,
                pos=pos) -> None:  # fmt: skip
            key = (p["source"], p["start"], p["end"])
            if key in seen:
                return
            seen.add(key)
            lab = label(p, answers, spans, gold, False, False)
            (pos if lab["rel"] == 1 else bucket if lab["rel"] == 0 else []).append(lab)

        for src in sorted(own):
            for a, b in chunks(texts[src], src):
                add(cut(src, texts[src], a, b, "same-document"), own_neg)
        for p in product.search(engine, rs[0]["question"], 10):
            add(cut(p.source, texts[p.source], p.start, p.end, "retrieved"), retrieved_neg)
        rng_for(seed, name, qid).shuffle(own_neg)
        negs = retrieved_neg[:RETRIEVED_NEGATIVES]
        negs += own_neg[: NEGATIVES - len(negs)]
        negs += retrieved_neg[RETRIEVED_NEGATIVES:][: NEGATIVES - len(negs)]
        if pos or negs:
            doc = qid.rsplit("__", 1)[0]  # CUAD: the contract (its clause types after "__")
            out.append(dict(id=f"pool:{qid}", domain=name, group=f"{name}:pool:{doc}",
                            question=rs[0]["question"], answers=answers,
                            passages=pos + negs))  # fmt: skip
    return out
