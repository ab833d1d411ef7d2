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

from qa.types import MAX_TEXT, Answer, checked_text

# Everything below bounds what a chat sent back by the browser may hold: it is untrusted (a
# forged page_end of 20,000,000 once made the viewer build a 20-million-page list).
MAX_CHAT_CHARS = 20_000_000  # a kept chat's JSON; localStorage holds ~5 MB in all
MAX_TURNS = 200  # turns of one chat that are restored (the newest)
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
    if isinstance(raw, str | bytes) and len(raw) > MAX_CHAT_CHARS:
        return new_conversation(), 0  # no chat this page made; parsing it would cost ~10x
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict) or not _ID.match(str(data.get("id", ""))):
        return new_conversation(), 0
    turns: list[Turn] = []
    raw_turns = data.get("turns") if isinstance(data.get("turns"), list) else []
    dropped = max(0, len(raw_turns) - MAX_TURNS)
    for t in raw_turns[-MAX_TURNS:]:
        try:
            question = checked_text(t["question"])
            record = answer_record(Answer.from_dict(t["answer"]))
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
