"""Conversations as the browser keeps them: plain JSON, checked on the way back in.

A chat lives in the user's browser (localStorage), so each user of one server sees only their
own. The server renders it afresh from these records whenever it comes back (on a reload or when
a past chat is opened), escaping every string as it does for a new answer: what is stored is
data, never HTML. A record that is damaged or from another version is dropped, not fatal.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any, TypedDict

from qa.types import Answer, AnswerSentence, Citation, Passage, Span

MAX_TURNS = 200  # turns of one chat that are restored (the newest)
MAX_TEXT = 50_000  # characters of any one stored text
MAX_CITATIONS = 50
MAX_SENTENCES = 200  # checked sentences of one generated answer
MAX_SPANS = 20
TITLE_CHARS = 80
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
RATINGS = ("up", "down")


class Feedback(TypedDict, total=False):
    """What the user said of an answer: a rating and, optionally, the right answer."""

    rating: str  # "up" or "down"
    correction: str  # "the right answer is ..."
    unanswerable: bool  # "the documents don't answer this"


class Turn(TypedDict, total=False):
    """One question and its answer (``Answer.to_dict()`` less the retrieval list)."""

    question: str
    answer: dict[str, Any]
    feedback: Feedback
    time: float


class Conversation(TypedDict):
    """A chat: its id, title (the first question) and turns, oldest first."""

    id: str
    title: str
    created: float
    turns: list[Turn]


def new_conversation() -> Conversation:
    """An empty chat with a fresh id."""
    return {"id": uuid.uuid4().hex[:16], "title": "", "created": time.time(), "turns": []}


def title_for(question: str) -> str:
    """A chat's title: its first question on one line, shortened."""
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def answer_record(answer: Answer) -> dict[str, Any]:
    """What is kept of an answer: everything the page shows, not the retrieval list."""
    record = answer.to_dict()
    record.pop("retrieved", None)
    record.pop("timings", None)
    return record


def add_turn(conv: Conversation, question: str, answer: Answer) -> Conversation:
    """A new conversation with one more turn (titled by its first question)."""
    turn: Turn = {"question": question, "answer": answer_record(answer), "time": time.time()}
    return {**conv, "title": conv["title"] or title_for(question), "turns": [*conv["turns"], turn]}


def without_last(conv: Conversation) -> Conversation:
    """A new conversation without its last turn (to ask it again, or edit it)."""
    return {**conv, "turns": list(conv["turns"][:-1])}


def with_feedback(conv: Conversation, index: int, feedback: Feedback) -> Conversation:
    """A new conversation whose turn ``index`` carries the feedback."""
    turns = list(conv["turns"])
    turns[index] = {**turns[index], "feedback": feedback}
    return {**conv, "turns": turns}


def history(conv: Conversation) -> list[dict[str, str]]:
    """The turns as the plain role/content history that ``Engine.ask`` takes."""
    out: list[dict[str, str]] = []
    for t in conv["turns"]:
        out.append({"role": "user", "content": t["question"]})
        out.append({"role": "assistant", "content": t["answer"].get("answer", "")})
    return out


def to_json(conv: Conversation) -> str:
    """The conversation as the JSON the browser stores."""
    return json.dumps(conv, ensure_ascii=False, separators=(",", ":"))


# --- back from the browser ----------------------------------------------------------------------


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError("not a string of the expected size")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("not a non-negative integer")
    return value


def _page(value: Any) -> int | None:
    return None if value is None else _int(value)


def _spans(value: Any) -> tuple[Span, ...]:
    if not isinstance(value, list) or len(value) > MAX_SPANS:
        raise ValueError("spans must be a short list")
    spans = []
    for s in value:
        start, end, text = _int(s["start"]), _int(s["end"]), _text(s["text"])
        if end < start:
            raise ValueError("a span ends before it starts")
        spans.append(Span(start, end, text))
    return tuple(spans)


def _citation(c: Any) -> Citation:
    start, end, text = _int(c["start"]), _int(c["end"]), _text(c["text"])
    passage = Passage(
        id=f"{c['source']}:{start}",
        source=_text(c["source"], 1000),
        start=start,
        end=end,
        text=text,
        score=float(c.get("score") or 0.0),
        rank=0,
        title=_text(c.get("title") or "", 1000),
        page=_page(c.get("page")),
        page_end=_page(c.get("page_end")),
    )
    return Citation(
        n=_int(c["n"]),
        passage=passage,
        sentences=_spans(c.get("sentences", [])),
        phrases=_spans(c.get("phrases", [])),
    )


def answer_from_record(record: Any) -> Answer:
    """The Answer a stored record describes; ValueError (or KeyError/TypeError) if damaged."""
    status = record.get("status") or ("refused" if record.get("refused") else "answered")
    if status not in ("answered", "uncertain", "refused"):
        raise ValueError(f"unknown status {status!r}")
    cites = record.get("citations") or []
    if not isinstance(cites, list) or len(cites) > MAX_CITATIONS:
        raise ValueError("citations must be a short list")
    unsupported = record.get("unsupported") or []
    if not isinstance(unsupported, list):
        raise ValueError("unsupported must be a list")
    read = record.get("read") or []
    if not isinstance(read, list) or len(read) > MAX_CITATIONS:
        raise ValueError("read must be a short list")
    latency = record.get("latency_ms") or 0.0
    if not isinstance(latency, int | float):
        raise ValueError("latency_ms must be a number")
    return Answer(
        question=_text(record.get("question") or ""),
        text=_text(record.get("answer") or ""),
        citations=tuple(_citation(c) for c in cites),
        status=status,
        mode=_text(record.get("mode") or "extractive", 200),
        standalone_question=_text(record.get("standalone_question") or ""),
        sentences=_sentences(record.get("sentences"), unsupported),
        notice=_text(record.get("notice") or ""),
        timings={"total_ms": float(latency)},
        read=tuple(_citation(c) for c in read),
    )


def _numbers(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_CITATIONS:
        raise ValueError("citation numbers must be a short list")
    return tuple(_int(n) for n in value)


def _sentences(value: Any, unsupported: list) -> tuple[AnswerSentence, ...]:
    """The answer's checked sentences (older records: only the unsupported ones' texts)."""
    if value is None:
        return tuple(AnswerSentence(_text(s), supported=False) for s in unsupported)
    if not isinstance(value, list) or len(value) > MAX_SENTENCES:
        raise ValueError("sentences must be a short list")
    out = []
    for s in value:
        support = s.get("support", 1.0)
        if not isinstance(s.get("supported"), bool) or not isinstance(support, int | float):
            raise ValueError("a sentence's support must be a flag and a number")
        cites, added = _numbers(s.get("citations", [])), _numbers(s.get("added", []))
        out.append(AnswerSentence(_text(s["text"]), cites, s["supported"], float(support), added))
    return tuple(out)


def _feedback(value: Any) -> Feedback:
    if not isinstance(value, dict) or value.get("rating") not in RATINGS:
        return {}
    out: Feedback = {"rating": value["rating"]}
    if isinstance(value.get("correction"), str) and value["correction"].strip():
        out["correction"] = value["correction"][:MAX_TEXT]
    if value.get("unanswerable") is True:
        out["unanswerable"] = True
    return out


def parse_conversation(raw: Any) -> tuple[Conversation, int]:
    """A stored chat (JSON text or dict) checked turn by turn; returns it and the turns dropped.

    Anything that is not a chat at all gives a new, empty one.
    """
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        data = None
    if not isinstance(data, dict) or not _ID.match(str(data.get("id", ""))):
        return new_conversation(), 0
    turns: list[Turn] = []
    raw_turns = data.get("turns") if isinstance(data.get("turns"), list) else []
    dropped = max(0, len(raw_turns) - MAX_TURNS)
    for t in raw_turns[-MAX_TURNS:]:
        try:
            question = _text(t["question"])
            record = answer_record(answer_from_record(t["answer"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            dropped += 1
            continue
        turn: Turn = {"question": question, "answer": record, "time": _time(t.get("time"))}
        if feedback := _feedback(t.get("feedback")):
            turn["feedback"] = feedback
        turns.append(turn)
    title = data.get("title") if isinstance(data.get("title"), str) else ""
    conv: Conversation = {
        "id": data["id"],
        "title": title_for(title or (turns[0]["question"] if turns else "")),
        "created": _time(data.get("created")),
        "turns": turns,
    }
    return conv, dropped


def _time(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
