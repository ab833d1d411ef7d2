"""What counts as gold, and the scores of one answered question (its results.jsonl record).

A retrieved or cited passage is *gold* when it contains one of the question's evidence strings
(whitespace normalised) and, if ``sources`` are given, comes from one of them; a question with
sources but no evidence counts every passage of those sources as gold. (With evidence present
the evidence decides, because a one-document corpus would make every passage "from the source".)
This is the only definition: ``qa eval``, the report and the benchmarks in ``eval/`` all use it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Protocol

from qa.answer.markers import strip_markers
from qa.evaluation import metrics
from qa.evaluation.dataset import EvalItem
from qa.evaluation.records import (
    AnswerScores,
    CitationRecord,
    JudgeScores,
    PassageRecord,
    RankScores,
    ResultRecord,
    Scores,
)
from qa.types import ANSWERED, REFUSED, UNCERTAIN, Answer, Passage

RANK_DEPTH = 10  # retrieval is ranked this deep for hit@k / MRR@10


class Located(Protocol):
    """Anything retrieved that can be gold: a Passage, a stored chunk, a peer system's hit."""

    @property
    def source(self) -> str: ...

    @property
    def text(self) -> str: ...


# ---------------------------------------------------------------------------- gold


def from_sources(source: str, sources: Sequence[str]) -> bool:
    """True if a passage's source path is one of the named files."""
    return any(
        source == s or PurePosixPath(source).name == s or source.endswith("/" + s) for s in sources
    )


def has_gold(item: EvalItem) -> bool:
    """Whether retrieval and citations can be scored: an answerable item that names its gold."""
    return item.answerable and bool(item.evidence or item.sources)


def is_gold(item: EvalItem, passage: Located) -> bool | None:
    """Whether a passage supports the reference answer; None when the item names no gold."""
    if item.evidence:
        if item.sources and not from_sources(passage.source, item.sources):
            return False
        return any(metrics.contains_text(passage.text, e) for e in item.evidence)
    if item.sources:
        return from_sources(passage.source, item.sources)
    return None


def gold_coverage(item: EvalItem, passages: Sequence[Located]) -> float | None:
    """Share of the gold evidence strings (or else gold sources) that the passages cover."""
    if item.evidence:
        ok = [p for p in passages if not item.sources or from_sources(p.source, item.sources)]
        covered = [any(metrics.contains_text(p.text, e) for p in ok) for e in item.evidence]
    else:
        covered = [any(from_sources(p.source, [s]) for p in passages) for s in item.sources]
    return sum(covered) / len(covered) if covered else None


def source_gold(item: EvalItem) -> EvalItem:
    """The item with gold at file level: any passage of one of its sources (evidence ignored)."""
    return dataclasses.replace(item, evidence=())


# ---------------------------------------------------------------------------- scores


def answer_scores(item: EvalItem, answer: Answer) -> AnswerScores:
    """Containment, exact match and token F1 of the answer text without its [n] markers.

    The markers go first, or a marker "[1]" would "contain" the reference answer "1". Only a
    confident answer can be right: a refusal, and a "not sure" that offers the closest passages,
    contain nothing (the outcome columns count them apart).
    """
    if not item.answerable:
        return {"contains": None, "em": None, "f1": None}
    prediction = strip_markers(answer.text) if answer.status == ANSWERED else ""
    return {
        "contains": metrics.contains_answer(prediction, item.answers),
        "em": metrics.exact_match(prediction, item.answers),
        "f1": metrics.token_f1(prediction, item.answers),
    }


def rank_scores(item: EvalItem, ranked: Sequence[Located]) -> RankScores:
    """Rank of the first gold passage in the top RANK_DEPTH, hit@1, hit@5 and MRR@10."""
    if not has_gold(item):
        return {"gold_rank": None, "hit1": None, "hit5": None, "mrr10": None}
    flags = [bool(is_gold(item, p)) for p in ranked[:RANK_DEPTH]]
    return {
        "gold_rank": metrics.first_gold_rank(flags),
        "hit1": metrics.hit_at(flags, 1),
        "hit5": metrics.hit_at(flags, 5),
        "mrr10": metrics.mrr_at(flags, RANK_DEPTH),
    }


def score(item: EvalItem, answer: Answer, ranked: Sequence[Passage]) -> Scores:
    """The per-question scores; a score that does not apply to this question is None."""
    gold = has_gold(item)
    cited = [c.passage for c in answer.citations]
    precision = recall = None
    if gold and cited and not answer.refused:
        precision = sum(bool(is_gold(item, p)) for p in cited) / len(cited)
    if gold:
        recall = 0.0 if answer.refused else gold_coverage(item, cited)
    return {
        "refusal_correct": float(answer.refused == (not item.answerable)),
        "answered": float(answer.status == ANSWERED),
        "uncertain": float(answer.status == UNCERTAIN),
        "refused": float(answer.status == REFUSED),
        **answer_scores(item, answer),
        **rank_scores(item, ranked),
        "citation_precision": precision,
        "citation_recall": recall,
    }


# ---------------------------------------------------------------------------- records


def _item_fields(item: EvalItem) -> dict:
    """The dataset fields that every results.jsonl line repeats."""
    return {
        "id": item.id,
        "category": item.category,
        "question": item.question,
        "answers": list(item.answers),
        "evidence": list(item.evidence),
        "sources": list(item.sources),
    }


def _cut(record: dict, *keys: str) -> dict:
    """The fields ``keys`` of a ``to_dict()`` record, in that order."""
    return {k: record[k] for k in keys}


def _passage_record(rank: int, p: Passage, gold: bool | None) -> PassageRecord:
    """A retrieved passage as results.jsonl lists it: ``Passage.to_dict()`` cut, with its rank
    and whether it is gold."""
    where = _cut(p.to_dict(), "source", "start", "end", "score")
    return {"rank": rank, **where, "gold": gold, "text": p.text}


def result_record(
    item: EvalItem,
    answer: Answer,
    ranked: Sequence[Passage],
    latency_ms: float,
    judged: JudgeScores,
) -> ResultRecord:
    """The results.jsonl line for one answered question."""
    scores = score(item, answer, ranked)
    scores.update(judged)
    citations: list[CitationRecord] = [
        {
            **_cut(c.to_dict(), "n", "source", "start", "end"),
            "gold": is_gold(item, c.passage),
            "text": c.text,
        }
        for c in answer.citations
    ]
    return {
        **_item_fields(item),
        "answer": answer.text,
        "status": answer.status,
        "refused": answer.refused,
        "mode": answer.mode,
        "notice": answer.notice,
        "citations": citations,
        "answer_passages": len(answer.retrieved),
        "retrieved": [
            _passage_record(i, p, is_gold(item, p)) for i, p in enumerate(ranked[:RANK_DEPTH], 1)
        ],
        "scores": scores,
        "latency_ms": round(latency_ms, 2),
        "error": None,
    }


def error_record(item: EvalItem, message: str) -> ResultRecord:
    """The results.jsonl line for a question that could not be asked."""
    return {
        **_item_fields(item),
        "answer": "",
        "status": "",
        "refused": False,
        "mode": "",
        "notice": None,
        "citations": [],
        "answer_passages": 0,
        "retrieved": [],
        "scores": {},
        "latency_ms": None,
        "error": message,
    }
