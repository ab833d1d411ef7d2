"""Every evaluation question with the passages the product retrieves for it, over every domain.

    from cases import build_cases
    cases = build_cases(domains, work_dir, cache=Path("cases.pkl"))

The shared ground of ``eval/tune.py`` (answer constants), ``eval/calibrate.py`` (the outcome
decision) and the reader's evaluation: each reference set (a *domain*: SQuAD, HotpotQA and the
sets of other kinds of documents in ``eval/datasets/``) is converted, indexed in a collection of
its own, and a near-miss copy of it (``qa.evaluation.protocol.near_miss``) is indexed beside it.
A case is one question asked of one corpus:

- ``answerable``: a domain's question asked of its own documents;
- ``near-miss``: asked of its documents with its gold files removed (the topic stays);
- ``cross``: asked of another domain's documents, or of the seed article (nothing on the topic);
- the seed questions (``eval/seeds_qa.jsonl``), never tuned on, as domain ``seeds``;
- the same questions in Spanish, French and German (``eval/multilingual_qa.jsonl``), never tuned
  on, as domain ``multilingual``: asked of the seed article (answerable) and of the others.

Each case keeps the top ``DEPTH`` fused passages (the answer step reads the first ``top_k``; a
reader's readings take the first ``QA_TOP_K``), the question as the product reads it
(``Engine.read``: the ask split from a preamble, courtesies dropped, typos read) and the ask's
IDF weights in its corpus. Retrieval is the product's own (``Engine.retriever``), so rebuild the
cache after a retrieval change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import retrieval_bench as rb

from index.chunk import CHUNKING_VERSION
from qa.evaluation.dataset import EvalItem, load_dataset
from qa.evaluation.protocol import cross_corpus, near_miss, split_reference
from qa.question.read import Asked
from qa.types import Passage

log = logging.getLogger("cases")
ROOT = Path(__file__).resolve().parents[1]
DEPTH = 10  # passages kept per case (the answer and the reader read top_k of them)
CROSS_PER_PAIR = 100  # questions of a domain asked of each other corpus (a fixed sample)
CROSS_SEED = "qa-chat cross-corpus sample 2026-12-04"
SEEDS_QA = ROOT / "eval" / "seeds_qa.jsonl"
MULTILINGUAL_QA = ROOT / "eval" / "multilingual_qa.jsonl"
# The settings the retrieved passages depend on (the cache is rebuilt when one changes).
RETRIEVAL_FIELDS = {"embeddings", "chunk_tokens", "chunk_overlap_tokens", "candidates", "focus",
                    "retrieval", "fusion", "dense_weight", "link_weight"}  # fmt: skip


@dataclass
class Case:
    """One question asked of one corpus, with what the product retrieved there."""

    domain: str  # the set the question comes from ("seeds" for the seed questions)
    half: str  # "tune" or "test" ("test" for the seed questions: never tuned on)
    kind: str  # "answerable", "near-miss", "cross" or "unanswerable" (seed questions)
    corpus: str  # the collection asked
    item: EvalItem
    passages: list[Passage]
    weights: dict[str, float]
    asked: Asked  # the question as the product reads it (``Engine.read``)
    extra: dict = field(default_factory=dict)  # per-consumer annotations (reader scores, ...)

    @property
    def answerable(self) -> bool:
        return self.kind == "answerable"


def _sample(items: Sequence[EvalItem], n: int, salt: str) -> list[EvalItem]:
    if len(items) <= n:
        return list(items)
    rng = random.Random(f"{CROSS_SEED}:{salt}")
    return sorted(rng.sample(list(items), n), key=lambda i: i.id)


# How a case is made: bump when that changes, so that a cache built the old way is not reused
# (2: the question read as ``Engine.read`` reads it, its weights from the ask alone; 3: "take
# place" and a closing "held" are no asked words; 4: the dense side exact, ``index.exact``; 5: the
# asker's frame no asked words; 6: no sentence break after a title's abbreviation, "... and Ms.
# Chen Weijie?"). The chunking version is in the key too: cases read passages cut as the index
# cuts them.
VERSION = 6


def _key(domains: Sequence[str], settings_json: str) -> str:
    extra = "|multilingual|spelling" if MULTILINGUAL_QA.exists() else "|spelling"
    key = f"{sorted(domains)}|{DEPTH}|{settings_json}{extra}|{VERSION}|{CHUNKING_VERSION}"
    return hashlib.sha1(key.encode()).hexdigest()[:12]


NOISY = ("httpx", "chromadb", "bm25s", "index", "qa")  # loggers quieted in the scripts' output


def report(name: str, lines: Sequence[str], data: object) -> Path:
    """Print a script's table and write its figures to ``eval/out/<name>.json``."""
    print("\n".join(lines))
    dest = ROOT / "eval" / "out" / f"{name}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(data, indent=1))
    return dest


def ways_table(
    rows: dict[tuple[str, str], list[list[float]]],
    ways: Sequence[str],
    domains: Sequence[str],
    counts: dict[tuple[str, str], Sequence[int]] | None = None,
    counted: str = "",
) -> tuple[list[str], dict]:
    """Phrase F1 of several ways side by side (``rows``: per (domain, half), a list of F1s, a way
    each, per question), and the way each left-out domain's folds (the other tune halves) choose,
    with its test half's figure: the table's lines and its figures. ``counts``: a number per way
    and (domain, half), shown in brackets and kept under ``counted``."""
    lines = ["| domain | half | n | " + " | ".join(f"phrase F1, {w}" for w in ways) + " |",
             "| --- | --- | --- | " + "--- | " * len(ways)]  # fmt: skip
    out = {}
    for (d, h), v in sorted(rows.items()):
        m = np.mean(v, axis=0)
        out[f"{d}|{h}"] = dict(zip(ways, map(float, m), strict=True)) | {"n": len(v)}
        cells = [f"{x:.3f}" for x in m]
        if counts is not None:
            n = [int(k) for k in counts[(d, h)]]
            out[f"{d}|{h}"][counted] = dict(zip(ways, n, strict=True))
            cells = [f"{x} ({k})" for x, k in zip(cells, n, strict=True)]
        lines.append(f"| {d} | {h} | {len(v)} | " + " | ".join(cells) + " |")
    if counts is not None:
        lines += ["", f"(in brackets: {counted})"]
    lines += ["", "| left out | the other five tune halves choose | its test half F1 |",
              "| --- | --- | --- |"]  # fmt: skip
    for d in (x for x in domains if f"{x}|tune" in out and f"{x}|test" in out):
        others = [f"{x}|tune" for x in domains if x != d and f"{x}|tune" in out]
        way = max(ways, key=lambda w: sum(out[k][w] for k in others))
        out[f"{d}|lodo"] = {"way": way, "f1": out[f"{d}|test"][way]}
        lines.append(f"| {d} | {way} | {out[f'{d}|test'][way]:.3f} |")
    return lines, out


def shared_cases(domains: Sequence[str], embeddings: str = "minilm") -> list[Case]:
    """The cases as the eval scripts share them: log lines with their time (the libraries'
    quieted), offline, built in ``.qa_store/calib`` and cached in ``cache_path``."""
    from index.offline import quiet

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet()
    store = ROOT / ".qa_store"
    return build_cases(domains, store / "calib", cache_path(domains, embeddings), embeddings)


def cache_path(domains: Sequence[str], embeddings: str = "minilm") -> Path:
    """The cases' cache for this set of domains and embedding model: one file per set, so that
    a script run on one domain does not replace the cache of all of them."""
    tag = hashlib.sha1("|".join(sorted(domains)).encode()).hexdigest()[:8]
    return ROOT / ".qa_store" / f"cases-{embeddings}-{tag}.pkl"


def build_cases(
    domains: Sequence[str],
    work: Path,
    cache: Path | None = None,
    embeddings: str = "minilm",
    overrides: dict | None = None,
) -> list[Case]:
    """Every case of every domain (see the module docstring); cached in ``cache`` when given;
    ``overrides``: settings other than the shipped ones (``{"focus": False}``)."""
    from index.embed import make_embedder
    from index.ingest import ingest
    from qa.engine import Engine
    from qa.settings import Settings

    overrides = overrides or {}
    base = Settings(embeddings=embeddings, **overrides)
    key = _key(domains, base.model_dump_json(include=RETRIEVAL_FIELDS))
    if cache and cache.is_file():
        stored = pickle.loads(cache.read_bytes())
        if stored.get("key") == key:
            log.info("reading cached cases from %s", cache)
            return stored["cases"]
        log.info("cache %s is for other domains or settings: rebuilding", cache)
    sets = rb.prepare(ROOT / "eval" / "datasets", ROOT / ".qa_store" / "datasets", list(domains))
    embedder = make_embedder(base.embed_config)
    corpora = {n: s.docs_dir for n, s in sets.items()} | {"seeds": ROOT / "seeds"}
    misses = {}
    for n, s in sets.items():
        misses[n] = near_miss(s.docs_dir, s.questions, work / "nearmiss-docs" / n)
        corpora[f"{n}-nearmiss"] = misses[n].docs_dir
    engines = {}
    for name, folder in corpora.items():
        settings = Settings(
            store_dir=work,
            collection=f"{name}-{embeddings}",
            docs_dir=folder,
            embeddings=embeddings,
            **overrides,
        )
        report = ingest(settings.ingest_config, embedder=embedder)
        log.info("index %s: %s", name, report.summary())
        engines[name] = Engine(settings)
    todo: list[tuple[str, str, str, str, EvalItem]] = []
    for n, s in sets.items():
        half = {i.id: h for h, qs in split_reference(n, s.questions).items() for i in qs}
        todo += [(n, half[i.id], "answerable", n, i) for i in s.questions]
        todo += [(n, half[i.id], "near-miss", f"{n}-nearmiss", i) for i in misses[n].unanswerable]
        for other in [o for o in (*sets, "seeds") if o != n]:
            asked = cross_corpus(_sample(s.questions, CROSS_PER_PAIR, f"{n}>{other}"), other)
            todo += [(n, half[i.id], "cross", other, i) for i in asked]
    for name, path in (("seeds", SEEDS_QA), ("multilingual", MULTILINGUAL_QA)):
        items, _ = load_dataset(path)
        for i in items:
            kind = "answerable" if i.answerable else "unanswerable"
            todo.append((name, "test", kind, "seeds", i))
            todo += [(name, "test", "cross", o, c) for o in sets for c in cross_corpus([i], o)]
    cases, t0 = [], time.perf_counter()
    for k, (n, half, kind, corpus, item) in enumerate(todo):
        e = engines[corpus]
        asked = e.read(item.question)  # split, courtesies dropped, typos read, as ``ask`` does
        passages = e.retriever.search(asked.standalone, DEPTH)
        weights = e.question_weights(asked.ask)
        cases.append(Case(n, half, kind, corpus, item, passages, weights, asked))
        if k % 500 == 0:
            log.info("retrieved %d of %d (%.0f s)", k, len(todo), time.perf_counter() - t0)
    if cache:
        cache.write_bytes(pickle.dumps({"key": key, "cases": cases}))
    return cases


def pick(
    cases: Sequence[Case],
    domains: Sequence[str] | None = None,
    half: str | None = "tune",
    kind: str | None = "answerable",
) -> list[Case]:
    """The cases of these domains, half and kind (None: any)."""
    return [
        c
        for c in cases
        if (domains is None or c.domain in domains)
        and (half is None or c.half == half)
        and (kind is None or c.kind == kind)
    ]
