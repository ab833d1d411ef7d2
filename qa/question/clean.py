"""The question as asked: cleaned, checked, and resolved against the conversation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from index.text import control_chars
from qa.errors import BadQuestionError
from qa.question import followup
from qa.types import Turn

MAX_HISTORY_TURNS = 20  # the turns kept (the latest); follow-ups lean on the last few only
MAX_TURN_CHARS = 4000  # each turn's text is cut to this (an answer quoted back can be long)

# Control and bidi-override characters, and lone surrogates (JSON can carry "\ud800"; the
# tokenizer and Chroma refuse them).
_CONTROL = control_chars(invisible=True)
_OTHER_ROLES = frozenset({"system", "developer", "tool", "function"})  # not conversation turns


def clean_question(question: object, max_chars: int) -> str:
    """The question as text without control characters, or a BadQuestionError that says why."""
    if not isinstance(question, str):
        raise BadQuestionError("The question must be text.")
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", question))
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise BadQuestionError("The question is empty. Type a question about the documents.")
    if len(text) > max_chars:
        raise BadQuestionError(
            f"The question is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it (or raise QA_MAX_QUESTION_CHARS)."
        )
    return text


def clean_history(history: object) -> list[Turn]:
    """The conversation as a short list of clean turns, or a BadQuestionError that says the format.

    Every turn must be a ``{"role": "user" | "assistant", "content": text}`` dict; the message
    names the first one that is not (one line, whatever the history holds). Only the latest
    MAX_HISTORY_TURNS are kept, each cut to MAX_TURN_CHARS, control characters removed.
    """
    if history is None:
        return []
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise BadQuestionError(
            "The history must be a list of {'role': ..., 'content': ...} messages."
        )
    turns: list[Turn] = []
    kept = list(history)[-MAX_HISTORY_TURNS:]
    for n, turn in enumerate(kept, len(history) - len(kept) + 1):
        problem = _turn_problem(turn)
        if problem:
            raise BadQuestionError(
                f"History turn {n} {problem}; each turn must be a "
                "{'role': 'user' | 'assistant', 'content': text} dict (not (question, answer) pairs)."
            )
        if turn["role"] in _OTHER_ROLES or turn["content"] is None:
            continue  # e.g. a system prompt passed along with the chat: not a turn to resolve
        text = re.sub(r"\s+", " ", _CONTROL.sub(" ", turn["content"][: MAX_TURN_CHARS * 2]))
        turns.append({"role": turn["role"], "content": text.strip()[:MAX_TURN_CHARS]})
    return turns


def _turn_problem(turn: object) -> str:
    """Why a history turn is malformed, in a few words ("" when it is fine)."""
    if not isinstance(turn, dict):
        return f"is a {type(turn).__name__}, not a dict"
    role, content = turn.get("role"), turn.get("content")
    if not isinstance(role, str) or (
        role not in ("user", "assistant") and role not in _OTHER_ROLES
    ):
        return "has no role 'user' or 'assistant'"
    if not isinstance(content, str) and not (content is None and role != "user"):
        return f"has {type(content).__name__} content, not text"
    return ""


def standalone_question(question: str, history: Sequence[Turn] | None) -> str:
    """Resolve a follow-up against the conversation, without a model (``qa.question.followup``).

    Pronouns take the person or thing the previous question named ("Where is he going next?"
    after "Who is Wang Yi?"); "and what about X?" asks the previous question about X instead.
    """
    return followup.resolve(question, history)
