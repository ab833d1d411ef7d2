"""Domains as sources of reader data: evaluation cases and training questions.

A domain is one of the six reference sets (``product.DOMAINS``); its questions, with the
product's own fused top 10, come from ``eval/cases.py`` (``product.cases``). From each domain:

- **cases** (evaluation, both halves): every answerable and near-miss question with its top 10,
  its gold passages, and today's heuristic answer (over the top 5, and over the gold passages);
- **training questions**: the TUNE half's answerable questions (never a test half), each with
  passages cut as the product cuts them (``index.chunk``): positives (a passage of a gold
  document holding an answer, with its span) and hard negatives: the product's own top-ranked
  passages that lack the answer, HotpotQA's distractors, other paragraphs of the same article,
  other chunks of the same document. No passage of a test-half document is used, not even as
  a negative (a test question's gold files and, for HotpotQA, its distractor paragraphs).

Training pools (``eval/datasets/<folder>/train.jsonl.gz``) and extra general data are read by
``pools.py``. Everything is drawn with ``random.Random(f"{seed} {domain} {question id}")``: the
same files come out of every run.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from pathlib import Path

import product

NEGATIVES = 6  # hard negatives kept per training question (training keeps 3 per positive)
RETRIEVED_NEGATIVES = 2  # ... of which first this many from the product's retrieval
YES_NO = {"yes", "no"}


def locate(text: str, answer: str, hint: int = -1) -> tuple[int, int] | None:
    """Where ``answer`` occurs in ``text`` (the product's ``locate``, case aside as well)."""
    return product.locate(text, answer, hint, ignore_case=True)


def holds_answer(text: str, answers) -> bool:
    """True when a normalised answer occurs in the normalised text (word boundaries)."""
    t = f" {product.normalize(text)} "
    return any(f" {product.normalize(a)} " in t for a in answers if product.normalize(a))


# ------------------------------------------------------------------ per-set knowledge


def squad_hints() -> dict[str, int]:
    """SQuAD question id -> where its first answer starts in the converted document."""
    data = json.loads((product.DATASETS / "squad-expmrc" / "expmrc-squad-dev.json").read_text())
    out = {}
    for article in data["data"]:
        shift = len(article["title"].replace("_", " ")) + 1  # the title line before the text
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                if qa["answers"]:
                    out[qa["id"]] = qa["answers"][0]["answer_start"] + shift
    return out


def hotpotqa_contexts() -> dict[str, list[str]]:
    """HotpotQA question id -> the file names of its 10 paragraphs (gold and distractors),
    named as ``qa.evaluation.converters.convert_hotpotqa`` names them."""
    from qa.evaluation.converters import hotpot_document

    out = {}
    path = product.DATASETS / "hotpotqa-dev500" / "dev_subsampled.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec["question_id"]] = [hotpot_document(ctx)[0] for ctx in rec["contexts"]]
    return out


HINTS = {"squad": squad_hints}
CONTEXTS = {"hotpotqa": hotpotqa_contexts}
# Sets whose question category names the article its paragraphs belong to: other paragraphs of
# the same article are same-document negatives.
ARTICLE_BY_CATEGORY = {"squad", "covidqa"}


# ------------------------------------------------------------------ building


def rng_for(seed: str, domain: str, qid: str) -> random.Random:
    return random.Random(f"{seed} {domain} {qid}")


def cut(source: str, text: str, s: int, e: int, kind: str) -> dict:
    return dict(source=source, start=s, end=e, text=text[s:e], kind=kind)


def label(p: dict, answers, spans_in_doc, gold: set[str], yes_no: bool, solo: bool) -> dict:
    """A training passage's labels: ``rel`` 1 (holds the answer), 0, or -1 (not counted) and
    ``span`` (chars in the passage) or None (no answer: the null span) — ``span_on`` False
    when the span is not learnt from it.

    A gold passage holding the answer is a positive, with the located answer as its span. A
    gold passage without it is a negative when its document has a passage that holds it,
    unknown when it is the whole document (HotpotQA's bridge paragraph; yes/no answers make it
    a positive without a span). Any other passage holding an answer is not counted (it might
    answer); the rest are negatives.
    """
    p = dict(p)
    inside = [
        (s - p["start"], e - p["start"])
        for s, e in spans_in_doc.get(p["source"], [])
        if p["start"] <= s and e <= p["end"]
    ]
    if p["source"] in gold and inside:
        p.update(rel=1, span=list(inside[0]), span_on=True)
    elif p["source"] in gold and yes_no:
        p.update(rel=1, span=None, span_on=False)
    elif (p["source"] in gold and solo) or holds_answer(p["text"], answers):
        p.update(rel=-1, span=None, span_on=False)
    else:
        p.update(rel=0, span=None, span_on=True)
    return p


def as_dict(p) -> dict:
    """A retrieved ``Passage`` as the JSON the data files hold."""
    return dict(source=p.source, start=p.start, end=p.end, text=p.text, score=p.score,
                dense=p.dense, title=p.title)  # fmt: skip


def build_domain(name: str, cases: list, out: Path, seed: str, emb) -> dict:
    """Cases and training questions of one domain (its ``eval/cases.py`` cases), written to
    ``out``; counts returned."""
    texts = product.documents(name)
    chunks = product.chunker(emb)
    chunk_cache: dict[str, list[tuple[int, int]]] = {}

    def doc_chunks(source: str) -> list[tuple[int, int]]:
        if source not in chunk_cache:
            chunk_cache[source] = chunks(texts[source], source)
        return chunk_cache[source]

    mine = [c for c in cases if c.domain == name and c.kind in ("answerable", "near-miss")]
    hints = HINTS[name]() if name in HINTS else {}
    contexts = CONTEXTS[name]() if name in CONTEXTS else {}
    test_docs = {s for c in mine if c.half == "test" for s in c.item.sources}
    test_docs |= {s for c in mine if c.half == "test" for s in contexts.get(c.item.id, [])}
    by_article: dict[str, list[str]] = defaultdict(list)
    if name in ARTICLE_BY_CATEGORY:
        for c in mine:
            for s in c.item.sources:
                if s not in by_article[c.item.category]:
                    by_article[c.item.category].append(s)

    rows, train = [], []
    for n, c in enumerate(mine):
        if n % 200 == 0:
            product.log.info("%s: %d of %d cases", name, n, len(mine))
        item = c.item
        spans_in_doc: dict[str, list[tuple[int, int]]] = {}
        gold_passages = []
        if c.kind == "answerable":
            for s in item.sources:
                text = texts[s]
                found = [locate(text, a, hints.get(item.id, -1)) for a in item.answers]
                spans_in_doc[s] = sorted({f for f in found if f})
                parts = [cut(s, text, a, b, "gold") for a, b in doc_chunks(s)]
                gold_passages += [p for p in parts if holds_answer(p["text"], item.answers)]
            if not gold_passages:  # yes/no, or an answer worded apart from the text
                for s in item.sources:
                    gold_passages += [cut(s, texts[s], a, b, "gold") for a, b in doc_chunks(s)]
        heuristic = product.today(item.question, c.passages[: product.TOP_K], c.weights)
        if gold_passages:
            given = [product.passage(p, k) for k, p in enumerate(gold_passages)]
            heuristic["gold_phrase"] = product.today(item.question, given, c.weights)["phrase"]
        rows.append(dict(id=item.id, domain=name, half=c.half, kind=c.kind,
                         question=item.question, answers=list(item.answers),
                         gold=list(item.sources), retrieved=[as_dict(p) for p in c.passages],
                         gold_passages=gold_passages, heuristic=heuristic))  # fmt: skip
        if c.kind == "answerable" and c.half == "tune":
            train.append(training_question(
                name, item, texts, doc_chunks, spans_in_doc, c.passages,
                contexts.get(item.id, []), by_article.get(item.category, []), seed, test_docs,
            ))  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "cases.jsonl.gz", rows)
    write_jsonl(out / "train.jsonl.gz", train)
    return dict(
        cases=len(rows),
        answerable=sum(c["kind"] == "answerable" for c in rows),
        near_miss=sum(c["kind"] == "near-miss" for c in rows),
        train_questions=len(train),
        train_passages=sum(len(t["passages"]) for t in train),
        positives=sum(p["rel"] == 1 for t in train for p in t["passages"]),
        banned_documents=len(test_docs),
    )


def training_question(
    name, item, texts, doc_chunks, spans_in_doc, retrieved, contexts, article, seed, banned
) -> dict:
    """A tune-half question with its positives and up to NEGATIVES hard negatives, hardest
    first: the product's retrieval (RETRIEVED_NEGATIVES), then other chunks of the gold
    documents, distractors and same-article paragraphs (shuffled), then more retrieved ones.

    ``banned``: documents of the test half, never a training passage, not even a negative one.
    """
    rng = rng_for(seed, name, item.id)
    gold = set(item.sources)
    yes_no = {a.lower() for a in item.answers} <= YES_NO
    seen: set[tuple[str, int, int]] = set()
    pos, retrieved_neg, other_neg = [], [], []

    def add(p: dict, bucket: list) -> None:
        key = (p["source"], p["start"], p["end"])
        if key in seen or p["source"] in banned:
            return
        seen.add(key)
        solo = len(doc_chunks(p["source"])) == 1 or not spans_in_doc.get(p["source"])
        lab = label(p, item.answers, spans_in_doc, gold, yes_no, solo)
        if lab["rel"] == 1:
            pos.append(lab)
        elif lab["rel"] == 0:
            bucket.append(lab)

    for s in item.sources:
        for a, b in doc_chunks(s):
            add(cut(s, texts[s], a, b, "gold"), other_neg)
    for p in retrieved:
        add(cut(p.source, texts[p.source], p.start, p.end, "retrieved"), retrieved_neg)
    others = [c for c in (*contexts, *article) if c not in gold and c in texts]
    rng.shuffle(others)
    for s in others[:6]:
        kind = "distractor" if s in contexts else "same-article"
        for a, b in doc_chunks(s):
            add(cut(s, texts[s], a, b, kind), other_neg)
    rng.shuffle(other_neg)
    negs = retrieved_neg[:RETRIEVED_NEGATIVES]
    negs += other_neg[: NEGATIVES - len(negs)]
    negs += retrieved_neg[RETRIEVED_NEGATIVES:][: NEGATIVES - len(negs)]
    return dict(id=item.id, domain=name, group=f"{name}:{'|'.join(sorted(gold))}",
                question=item.question, answers=list(item.answers),
                passages=pos + negs)  # fmt: skip


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Gzipped JSONL, byte for byte the same for the same rows (no timestamp in the header)."""
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(data.encode("utf-8"))


def read_jsonl(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
