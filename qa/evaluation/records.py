"""The shapes of an evaluation run's files: results.jsonl lines, their scores, summary.json.

Plain TypedDicts, because the records are JSON on disk and are read back by ``--resume`` and
``--compare``; a record read from an older run may lack a key, so readers use ``.get``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, TypedDict

Outcome = Literal[
    "correct",
    "refused (right)",
    "wrong",
    "not sure",
    "wrongly refused",
    "not sure (unanswerable)",
    "answered unanswerable",
    "error",
]
GOOD_OUTCOMES: frozenset[Outcome] = frozenset({"correct", "refused (right)"})
# Neither right nor a refusal: "not sure" offers the closest passages instead of an answer.
UNSURE_OUTCOMES: frozenset[Outcome] = frozenset({"not sure", "not sure (unanswerable)"})


class AnswerScores(TypedDict):
    """The answer against the references; None for a question the documents do not answer."""

    contains: float | None
    em: float | None
    f1: float | None


class RankScores(TypedDict):
    """Where the first gold passage ranks; None when the question names no gold."""

    gold_rank: int | None
    hit1: float | None
    hit5: float | None
    mrr10: float | None


class JudgeScores(TypedDict, total=False):
    """What ``--judge`` adds to a question's scores (the raw verdicts cut to 300 characters)."""

    judge_correct: float | None
    judge_score: int | None
    judge_faithful: float | None
    judge_correctness_raw: str
    judge_faithfulness_raw: str
    judge_error: str


class Scores(AnswerScores, RankScores, JudgeScores):
    """Every per-question score; a score that does not apply to the question is None."""

    refusal_correct: float
    answered: float  # 1 for a confident answer, else 0 (the three flags sum to 1)
    uncertain: float  # 1 for "not sure: the closest passages"
    refused: float  # 1 for a refusal
    citation_precision: float | None
    citation_recall: float | None


class PassageRecord(TypedDict):
    """A retrieved passage as results.jsonl keeps it."""

    rank: int
    source: str
    start: int
    end: int
    score: float
    gold: bool | None
    text: str


class CitationRecord(TypedDict):
    """A cited passage as results.jsonl keeps it."""

    n: int
    source: str
    start: int
    end: int
    gold: bool | None
    text: str


class ResultRecord(TypedDict):
    """One line of results.jsonl: the question, the answer, its passages and scores."""

    id: str
    category: str
    question: str
    answers: list[str]
    evidence: list[str]
    sources: list[str]
    answer: str
    status: str  # answered | uncertain | refused (qa.types.Status)
    refused: bool
    mode: str
    notice: str | None
    citations: list[CitationRecord]
    answer_passages: int
    retrieved: list[PassageRecord]
    scores: Scores | dict  # {} when the question could not be asked
    latency_ms: float | None
    error: str | None


# One group's figures: the counts n, answerable, unanswerable, errors, then one value per
# registered metric (qa.evaluation.registry), keyed by the metric's key.
GroupSummary = dict[str, float | int | None]


class RunMeta(TypedDict, total=False):
    """What summary.json says about the run itself."""

    dataset: str
    docs: str
    collection: str
    mode: str
    retrieval: str
    top_k: int
    judged: bool
    questions: int
    asked: int
    complete: bool
    started: str
    seconds: float


class Summary(RunMeta):
    """summary.json: the run, the figures overall and per category."""

    overall: GroupSummary
    by_category: dict[str, GroupSummary]


def status_of(record: ResultRecord) -> str:
    """answered, uncertain or refused (records of older runs carry only ``refused``)."""
    return record.get("status") or ("refused" if record.get("refused") else "answered")


def outcome(record: ResultRecord) -> Outcome:
    """A one-word verdict on a result record: correct, wrong, not sure, wrongly refused..."""
    if record.get("error"):
        return "error"
    status = status_of(record)
    if record["answers"]:
        if status == "refused":
            return "wrongly refused"
        if status == "uncertain":
            return "not sure"
        return "correct" if record["scores"].get("contains") else "wrong"
    if status == "uncertain":
        return "not sure (unanswerable)"
    return "refused (right)" if status == "refused" else "answered unanswerable"


def read_results(path: Path) -> list[ResultRecord]:
    """The records of a results.jsonl, last one per id winning; a torn last line is ignored."""
    records: dict[str, ResultRecord] = {}
    if not path.exists():
        return []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line being written when the run was killed
        if isinstance(rec, dict) and "id" in rec:
            records.pop(rec["id"], None)
            records[rec["id"]] = rec
    return list(records.values())


def to_line(record: ResultRecord) -> str:
    """A record as one results.jsonl line."""
    return json.dumps(record, ensure_ascii=False) + "\n"
