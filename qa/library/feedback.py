"""Feedback on answers, kept as JSONL in the store folder so that it can become evaluation.

Each thumbs up/down (with an optional "the right answer is ...") appends one line; a later line
about the same answer (same ``id``) replaces the earlier one when read. ``qa eval feedback``
turns the file into a dataset (``qa.evaluation.feedback``).

The answer a record describes comes back from the browser (chats are kept there), so what a
record keeps is bounded (MAX_RECORD_BYTES at most); and a line of the file that is not a whole,
well-formed record (a hand edit, a torn write, bytes that are not UTF-8) is skipped and counted
when the file is read, never fatal.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, TypedDict

from qa.answer.markers import strip_markers
from qa.errors import FeedbackError

log = logging.getLogger(__name__)

FEEDBACK_FILE = "feedback.jsonl"
MAX_CORRECTION = 2000  # characters of a correction that are kept
# What one record keeps of the answer it rates (the browser sends the answer back):
MAX_QUESTION = 10_000  # characters of the question, of the standalone question, of the answer
MAX_CITED = 10  # cited passages (an answer cites a few)
MAX_SPANS = 4  # supporting sentences and answer phrases of each passage
MAX_SPAN = 1_000  # characters of each of them
MAX_NAME = 500  # characters of a source's name or title
MAX_RECORD_BYTES = 64_000  # a whole line: the last passages, then the longest texts give way
_LOCK = threading.Lock()


class CitedSource(TypedDict):
    """Where an answer that got feedback came from."""

    source: str
    title: str
    page: int | None
    start: int
    end: int
    sentences: list[str]
    phrases: list[str]


class FeedbackRecord(TypedDict):
    """One line of the feedback file."""

    id: str  # the answer: "<chat id>:<turn>"
    time: str  # ISO 8601, UTC
    rating: str  # "up" or "down"
    correction: str  # "the right answer is ...", or ""
    unanswerable: bool  # the user says the documents don't answer the question
    question: str
    standalone_question: str  # what was looked up (a follow-up resolved against the chat)
    answer: str  # the answer text, without [n] markers
    status: str  # answered / uncertain / refused
    mode: str
    citations: list[CitedSource]
    collection: str
    docs_dir: str


def feedback_path(store_dir: Path | str) -> Path:
    """Where the feedback of a store is kept."""
    return Path(store_dir) / FEEDBACK_FILE


def make_record(
    answer_id: str,
    answer: dict[str, Any],
    rating: str,
    *,
    correction: str = "",
    unanswerable: bool = False,
    collection: str = "",
    docs_dir: str = "",
) -> FeedbackRecord:
    """A feedback line from an answer record (``Answer.to_dict()`` shape) and what was said."""
    if rating not in ("up", "down"):
        raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
    cites: list[CitedSource] = [
        {
            "source": c["source"][:MAX_NAME],
            "title": (c.get("title") or "")[:MAX_NAME],
            "page": c.get("page"),
            "start": c["start"],
            "end": c["end"],
            "sentences": [s["text"][:MAX_SPAN] for s in c.get("sentences", [])[:MAX_SPANS]],
            "phrases": [s["text"][:MAX_SPAN] for s in c.get("phrases", [])[:MAX_SPANS]],
        }
        for c in answer.get("citations", [])[:MAX_CITED]
    ]
    question = answer.get("question", "")[:MAX_QUESTION]
    record: FeedbackRecord = {
        "id": answer_id[:200],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rating": rating,
        "correction": " ".join(correction.split())[:MAX_CORRECTION],
        "unanswerable": bool(unanswerable),
        "question": question,
        "standalone_question": (answer.get("standalone_question") or question)[:MAX_QUESTION],
        "answer": strip_markers(answer.get("answer", ""))[:MAX_QUESTION],
        "status": answer.get("status", "answered")[:20],
        "mode": answer.get("mode", "")[:200],
        "citations": cites,
        "collection": collection[:200],
        "docs_dir": docs_dir[:MAX_NAME],
    }
    return _fit(record)


def _line(record: FeedbackRecord) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def _fit(record: FeedbackRecord) -> FeedbackRecord:
    """The record cut to MAX_RECORD_BYTES: passages dropped from the last, then texts shortened."""
    while len(_line(record)) > MAX_RECORD_BYTES and record["citations"]:
        record["citations"].pop()
    for key in ("answer", "standalone_question", "question", "correction"):
        excess = len(_line(record)) - MAX_RECORD_BYTES
        if excess <= 0:
            break
        record[key] = record[key][: max(0, len(record[key]) - excess)]  # type: ignore[literal-required]
    return record


def append(path: Path, record: FeedbackRecord) -> None:
    """Add one record to the feedback file (one write of one whole line, appended)."""
    line = _line(record)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
    except OSError as exc:
        raise FeedbackError(
            f"Could not save the feedback to {path} ({exc.strerror or exc}); check that the "
            "store folder is writable."
        ) from exc
    log.info("feedback %s on %s", record["rating"], record["id"])


def read(path: Path) -> tuple[list[FeedbackRecord], list[str]]:
    """The latest record of each answer, oldest first; and the lines that could not be used
    ("line N: why"), each skipped."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise FeedbackError(
            f"There is no feedback file at {path} yet: rate an answer in the web chat first."
        ) from None
    except OSError as exc:
        raise FeedbackError(
            f"Cannot read the feedback file {path} ({exc.strerror or exc})."
        ) from exc
    latest: dict[str, FeedbackRecord] = {}
    problems = []
    for n, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            rec = check_record(json.loads(raw.decode("utf-8")))
        except UnicodeDecodeError:
            problems.append(f"line {n}: not UTF-8 text")
            continue
        except RecursionError:
            problems.append(f"line {n}: nested too deeply to be a feedback record")
            continue
        except ValueError as exc:
            problems.append(f"line {n}: {exc}")
            continue
        latest.pop(rec["id"], None)  # re-inserted: the order is that of the latest word
        latest[rec["id"]] = rec
    return list(latest.values()), problems


def check_record(rec: Any) -> FeedbackRecord:
    """The record if every field the evaluation reads has its type; ValueError says which not."""
    if not isinstance(rec, dict) or not isinstance(rec.get("id"), str):
        raise ValueError("not a feedback record")
    if rec.get("rating") not in ("up", "down") or not isinstance(rec.get("question"), str):
        raise ValueError("no rating or question")
    for key in ("standalone_question", "correction", "answer", "status"):
        if key in rec and not isinstance(rec[key], str):
            raise ValueError(f"{key} is not text")
    if not isinstance(rec.get("unanswerable", False), bool):
        raise ValueError("unanswerable is not true or false")
    cites = rec.get("citations") or []
    if not isinstance(cites, list) or not all(_cited(c) for c in cites):
        raise ValueError("citations is not a list of cited sources")
    return rec  # type: ignore[return-value]


def _cited(c: Any) -> bool:
    return (
        isinstance(c, dict)
        and isinstance(c.get("source", ""), str)
        and all(
            isinstance(c.get(k, []), list) and all(isinstance(t, str) for t in c.get(k, []))
            for k in ("sentences", "phrases")
        )
    )
