"""Feedback on answers, kept as JSONL in the store folder so that it can become evaluation.

Each thumbs up/down (with an optional "the right answer is ...") appends one line; a later line
about the same answer (same ``id``) replaces the earlier one when read. ``qa eval feedback``
turns the file into a dataset (``qa.evaluation.feedback``).
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
            "source": c["source"],
            "title": c.get("title") or "",
            "page": c.get("page"),
            "start": c["start"],
            "end": c["end"],
            "sentences": [s["text"] for s in c.get("sentences", [])],
            "phrases": [s["text"] for s in c.get("phrases", [])],
        }
        for c in answer.get("citations", [])
    ]
    return {
        "id": answer_id,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rating": rating,
        "correction": " ".join(correction.split())[:MAX_CORRECTION],
        "unanswerable": bool(unanswerable),
        "question": answer.get("question", ""),
        "standalone_question": answer.get("standalone_question") or answer.get("question", ""),
        "answer": strip_markers(answer.get("answer", "")),
        "status": answer.get("status", "answered"),
        "mode": answer.get("mode", ""),
        "citations": cites,
        "collection": collection,
        "docs_dir": docs_dir,
    }


def append(path: Path, record: FeedbackRecord) -> None:
    """Add one record to the feedback file (one write of one whole line, appended)."""
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
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
    """The latest record of each answer, oldest first; and the lines that could not be read."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise FeedbackError(
            f"There is no feedback file at {path} yet: rate an answer in the web chat first."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FeedbackError(f"Cannot read the feedback file {path}: {exc}") from exc
    latest: dict[str, FeedbackRecord] = {}
    problems = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict) or not isinstance(rec.get("id"), str):
                raise ValueError("not a feedback record")
            if rec.get("rating") not in ("up", "down") or not isinstance(rec.get("question"), str):
                raise ValueError("no rating or question")
        except ValueError as exc:
            problems.append(f"line {n}: {exc}")
            continue
        latest.pop(rec["id"], None)  # re-inserted: the order is that of the latest word
        latest[rec["id"]] = rec
    return list(latest.values()), problems
