"""Everything the reader's scripts take from the product (``qa``, ``index``), in one place.

The reader itself (``runtime.py``, shipped as ``qa/answer/reader.py``) imports none of it; data
preparation and evaluation need the product's evaluation cases (``eval/cases.py``: every
question of the six domains with the product's own fused top 10, cached in
``.qa_store/cases-minilm.pkl``, the same cache ``eval/calibrate.py`` reads), the converted
documents, the chunker, retrieval over a training pool, today's heuristic answer and the
metrics. When the product's modules move, only this file changes.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "eval")]  # this checkout's code, whatever is installed
for _var in list(os.environ):  # the shipped defaults, offline, no model
    if _var.startswith("QA_") or _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        os.environ.pop(_var)
os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

log = logging.getLogger("reader")

DATASETS = ROOT / "eval" / "datasets"
CONVERTED = ROOT / ".qa_store" / "datasets"
STORE = ROOT / ".qa_store" / "reader"
DOMAINS = ("squad", "hotpotqa", "covidqa", "cuad", "doc2dial", "tatqa")
TOP_K = 5  # passages the answer step reads (QA_TOP_K)
SENTENCES = 2  # QA_ANSWER_SENTENCES


def cases(domains=DOMAINS) -> list:
    """``eval/cases.py``'s cases of these domains (built once, then read from the cache)."""
    from cases import build_cases

    return build_cases(list(domains), ROOT / ".qa_store" / "calib",
                       ROOT / ".qa_store" / "cases-minilm.pkl", "minilm")  # fmt: skip


def documents(name: str) -> dict[str, str]:
    """A reference set's converted documents: file name -> text."""
    from retrieval_bench import prepare

    docs_dir = prepare(DATASETS, CONVERTED, [name])[name].docs_dir
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(docs_dir.iterdir())}


def dataset_folder(name: str) -> Path:
    """The vendored folder of a reference set (``eval/datasets/<folder>/``)."""
    from qa.evaluation.references import REFERENCE_SETS

    return DATASETS / Path(REFERENCE_SETS[name].relpath).parts[0]


def embedder():
    """The shipped embedder (MiniLM int8), loaded once."""
    from index.embed import make_embedder
    from qa.settings import Settings

    return make_embedder(Settings().embed_config)


def chunker(emb):
    """The product's chunker with its shipped sizes: text -> [(start, end)]."""
    from index.chunk import chunk_document
    from index.types import Document
    from qa.settings import Settings

    s = Settings()

    def chunks(text: str, source: str = "doc") -> list[tuple[int, int]]:
        doc = Document(source=source, text=text, file_hash="-")
        cut = chunk_document(doc, emb.count_tokens, s.chunk_tokens, s.chunk_overlap_tokens)
        return [(c.start, c.end) for c in cut]

    return chunks


def open_engine(collection: str, docs_dir: Path, emb):
    """Index ``docs_dir`` into a collection of the reader's store (incremental); its Engine."""
    from index.ingest import ingest
    from qa.engine import Engine
    from qa.settings import Settings

    settings = Settings(store_dir=STORE, collection=collection, docs_dir=docs_dir)
    report = ingest(settings.ingest_config, embedder=emb)
    log.info("index %s: %s", collection, report.summary())
    return Engine(settings)


def search(engine, question: str, k: int = 10) -> list:
    """The product's fused retrieval: the top k passages, best first."""
    return engine.retriever.search(question, k)


def passage(d: dict, rank: int = 0):
    """A passage dict (source, start, end, text) as the product's ``Passage``."""
    from qa.types import Passage

    return Passage(id=f"{d['source']}:{d['start']}", source=d["source"], start=d["start"],
                   end=d["end"], text=d["text"], score=d.get("score", 1.0), rank=rank,
                   title=d.get("title", ""), dense=d.get("dense"))  # fmt: skip


def today(question: str, passages: list, weights: dict[str, float]) -> dict:
    """Today's extractive answer (no reader) over ``passages`` (the product's ``Passage``s, the
    answer step's top 5): its marked phrase, its text, and the decision's scores (the evidence's
    relevance, the calibrated probabilities that the documents are on the topic and that the
    answer is right)."""
    from qa.answer import extract
    from qa.answer.calibration import calibration
    from qa.answer.evidence import weigh
    from qa.answer.markers import strip_markers
    from qa.question.ask import split

    ask = split(question).ask
    draft = extract.draft(ask, list(passages), weights, SENTENCES)
    ev = weigh(passages, weights, draft.sentence)
    cal = calibration("minilm", False)
    phrases = [p.text for c in draft.citations for p in c.phrases]
    return dict(phrase=phrases[0] if phrases else "", answer=strip_markers(draft.text),
                relevance=ev.relevance, topic=cal.topic_probability(ev),
                right=cal.right_probability(ev))  # fmt: skip


def with_reader(reader, question: str, passages: list, weights: dict[str, float]) -> dict:
    """The product's extractive answer with the reader on (``Engine.find`` then
    ``Engine.answer``): the top 5 fused passages read, the reader's span inside the quoted
    sentence marked. Its phrase and answer text."""
    from qa.answer import extract
    from qa.answer.markers import strip_markers
    from qa.answer.reading import read
    from qa.question.ask import split

    parts = split(question)
    found = read(reader, f"{parts.ask} {parts.context}".strip(), list(passages)[:TOP_K], weights)
    draft = extract.draft(parts.ask, list(found.passages), weights, SENTENCES, spans=found.spans)
    phrases = [p.text for c in draft.citations for p in c.phrases]
    return dict(phrase=phrases[0] if phrases else "", answer=strip_markers(draft.text))


def locate(text: str, answer: str, hint: int = -1, ignore_case: bool = False):
    from qa.evaluation.domains import locate as where

    return where(text, answer, hint, ignore_case)


def token_f1(prediction: str, references) -> float:
    from qa.evaluation.metrics import token_f1 as f1

    return f1(prediction, list(references))


def contains(prediction: str, references) -> float:
    from qa.evaluation.metrics import contains_answer

    return contains_answer(prediction, list(references))


def normalize(text: str) -> str:
    from qa.evaluation.metrics import normalize as norm

    return norm(text)
