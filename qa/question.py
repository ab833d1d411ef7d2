"""The question as asked: cleaned, checked, and resolved against the conversation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from qa.errors import BadQuestionError
from qa.types import Turn

# Control and bidi-override characters, and lone surrogates (JSON can carry "\ud800"; the
# tokenizer and Chroma refuse them).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_FOLLOW_UP = re.compile(
    r"^(and|but|also|so|then|what about|how about|and what|what else)\b"
    r"|\b(he|she|it|they|him|her|them|his|hers|its|their|theirs|that|this|those|these|there)\b",
    re.IGNORECASE,
)


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
    """The conversation as a list of message dicts, or a BadQuestionError that says the format."""
    if history is None:
        return []
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise BadQuestionError(
            "The history must be a list of {'role': ..., 'content': ...} messages."
        )
    turns = list(history)
    if not all(isinstance(t, dict) for t in turns):
        raise BadQuestionError(
            "Each history turn must be a {'role': 'user' | 'assistant', 'content': text} dict "
            "(not (question, answer) pairs)."
        )
    return turns


def standalone_question(question: str, history: Sequence[Turn] | None) -> str:
    """Resolve a follow-up against the previous question, without a model.

    A short question that leans on earlier turns ("and who did he meet?") is asked together
    with the previous user question, so that retrieval sees what "he" refers to.
    """
    previous = [t.get("content", "") for t in history or () if t.get("role") == "user"]
    previous = [p for p in previous if isinstance(p, str) and p.strip()]
    if not previous:
        return question
    if len(question.split()) <= 12 and _FOLLOW_UP.search(question):
        return f"{previous[-1].strip()} {question}"
    return question
