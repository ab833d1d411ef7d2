"""The question stage in one call: what was asked, ready for retrieval and for the decision.

    asked = read(question, history, max_chars)

cleans the question and the history (one clear error line when either is malformed), resolves a
follow-up against the conversation, splits the asking sentence from a preamble, and notes what
the decision needs to know about the question itself: does it lean on an answered turn, does it
say "he" without naming anyone, which language is it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.question.ask import split
from qa.question.clean import clean_history, clean_question
from qa.question.followup import dangling, resolve
from qa.question.language import ENGLISH, detect
from qa.types import REFUSED, Turn


@dataclass(frozen=True)
class Asked:
    """A question as the later stages read it."""

    question: str  # as asked, cleaned
    standalone: str  # resolved against the conversation: what retrieval reads
    ask: str  # the asking sentence of ``standalone``: the words an answer must match
    context: str = ""  # the sentences of a preamble around the ask ("" when none)
    history: tuple[Turn, ...] = ()
    follows_answer: bool = False  # leans on the conversation, whose last reply answered
    dangling: bool = False  # says "he"/"she" and names no one it could mean
    language: str = ENGLISH  # "en", or the code of the language it plainly is written in

    @property
    def resolved(self) -> bool:
        """True when the question was rewritten to stand alone ("Reading this as: ...")."""
        return self.standalone != self.question


def read(question: object, history: object, max_chars: int) -> Asked:
    """The question cleaned, resolved and split (see the module docstring)."""
    q = clean_question(question, max_chars)
    turns = clean_history(history)
    standalone = resolve(q, turns)
    parts = split(standalone)
    return Asked(
        question=q,
        standalone=standalone,
        ask=parts.ask,
        context=parts.context,
        history=tuple(turns),
        follows_answer=standalone != q and _last_reply_answered(turns),
        dangling=dangling(parts.ask),
        language=detect(q),
    )


def _last_reply_answered(turns: Sequence[Turn]) -> bool:
    """Whether the conversation's last reply gave an answer (its status says so; a reply that
    carries no status, as an API client sends it back, counts as one)."""
    replies = [t for t in turns if t.get("role") == "assistant"]
    return bool(replies) and replies[-1].get("status") != REFUSED
