"""Extractive answers and their outcomes, end to end through ``Engine.ask``, with two baselines.

Answers are scored by ``qa.evaluation.scoring.answer_scores``, as ``qa eval`` scores them: on the
quoted text without the ``[n]`` markers (a marker "[1]" would otherwise "contain" the reference
answer "1"). Only an answer whose status is "answered" can score: a refusal and a "not sure"
(the closest passages, said to be such) contain nothing here, strictly.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from index.text import sentence_spans
from qa.answer.markers import strip_markers
from qa.evaluation.dataset import EvalItem
from qa.evaluation.metrics import contains_answer, percentile
from qa.evaluation.scoring import answer_scores
from qa.types import ANSWERED, REFUSED, UNCERTAIN, Answer

LEAD_MIN_WORDS = 6  # the baseline's "first sentence" skips a title line


def ask_all(engine, questions: list[EvalItem]) -> tuple[list[Answer], list[float]]:
    """Every question through the engine; the answers and the wall time of each (ms)."""
    if questions:
        engine.ask(questions[0].question)  # warm-up
    answers, times = [], []
    for q in questions:
        t0 = time.perf_counter()
        answers.append(engine.ask(q.question))
        times.append((time.perf_counter() - t0) * 1000)
    return answers, times


def outcomes(answers: list[Answer]) -> dict:
    """Share of answers in each outcome: answered, uncertain ("not sure"), refused."""
    n = max(len(answers), 1)
    return {k: sum(a.status == k for a in answers) / n for k in (ANSWERED, UNCERTAIN, REFUSED)}


def score_answers(answers: list[Answer], questions: list[EvalItem], times: list[float]) -> dict:
    """Outcome shares, contains and token F1 (answered only), answer length, sentences, latency."""
    n = max(len(questions), 1)
    contains = f1 = sentences = 0.0
    lengths = []
    for a, q in zip(answers, questions, strict=True):
        if a.status != ANSWERED:
            continue
        s = answer_scores(q, a)
        contains += s["contains"] or 0.0
        f1 += s["f1"] or 0.0
        sentences += sum(len(c.sentences) for c in a.citations)
        lengths.append(len(strip_markers(a.text).strip()))
    return {
        "n": len(questions),
        **outcomes(answers),
        "contains": contains / n,
        "f1": f1 / n,
        "median_chars": percentile(lengths, 50) if lengths else None,
        "sentences_per_answer": sentences / max(len(lengths), 1),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
    }


def refusal_rate(answers: list[Answer]) -> float:
    """Share of answers that were refusals."""
    return sum(a.refused for a in answers) / max(len(answers), 1)


class SentenceVectors:
    """Sentence embeddings cached on disk by text hash (for the cosine baseline only)."""

    def __init__(self, embedder, path: Path):
        self.embedder, self.path = embedder, path
        self.vectors: dict[str, np.ndarray] = {}
        if path.is_file():
            data = np.load(path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    def get(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}
        if missing:
            vecs = self.embedder.embed(list(missing.values()))
            self.vectors.update(zip(missing, vecs, strict=True))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(
                self.path,
                keys=np.array(list(self.vectors)),
                vectors=np.stack(list(self.vectors.values())),
            )
        return np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, 1))


def baselines(answers: list[Answer], questions: list[EvalItem], embedder, cache: Path) -> dict:
    """Contains-answer of two simple extractors over the same retrieved passages (top 5).

    ``lead``: the first sentence (of at least six words) of the top passage.
    ``best_cosine``: the sentence of the top five passages closest to the question's vector.
    """
    vectors = SentenceVectors(embedder, cache)
    lead = cosine = 0.0
    for a, q in zip(answers, questions, strict=True):
        passages = list(a.retrieved[:5])
        sents = [p.text[s:e] for p in passages for s, e in sentence_spans(p.text)]
        if not sents:
            continue
        top = [passages[0].text[s:e] for s, e in sentence_spans(passages[0].text)]
        first = next((s for s in top if len(s.split()) >= LEAD_MIN_WORDS), top[0])
        lead += contains_answer(first, q.answers)
        qv = embedder.embed_query(q.question)
        best = sents[int(np.argmax(vectors.get(sents) @ qv))]
        cosine += contains_answer(best, q.answers)
    n = max(len(questions), 1)
    return {"lead": lead / n, "best_cosine": cosine / n}
