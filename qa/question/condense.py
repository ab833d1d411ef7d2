"""Follow-up questions rewritten into standalone ones by the model (``prompts/condense.txt``)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.llm import prompts
from qa.llm.client import LLM
from qa.llm.prompts import neutral
from qa.settings import Settings
from qa.types import Message, Turn

HISTORY_TURNS = 6
HISTORY_CHARS = 600


def format_history(history: Sequence[Turn]) -> str:
    """The last turns of a conversation as ``User: ...`` / ``Assistant: ...`` lines."""
    lines = []
    for turn in list(history)[-HISTORY_TURNS:]:
        content = turn.get("content") if isinstance(turn, dict) else None
        if not isinstance(content, str) or not content.strip():
            continue
        who = "User" if turn.get("role") == "user" else "Assistant"
        text = " ".join(neutral(content).split())
        if len(text) > HISTORY_CHARS:
            text = text[:HISTORY_CHARS] + "…"
        lines.append(f"{who}: {text}")
    return "\n".join(lines)


def condense_messages(question: str, history: Sequence[Turn], settings: Settings) -> list[Message]:
    """The messages that ask the model to rewrite a follow-up as a standalone question."""
    content = prompts.render(
        "condense", settings.prompts_dir, history=format_history(history), question=question
    )
    return [{"role": "user", "content": content}]


def clean_condensed(reply: str, limit: int) -> str | None:
    """The standalone question in the model's reply, or None when the reply is not a usable one.

    Small models sometimes echo the conversation instead of rewriting; a reply that is not a
    single question of sensible length is rejected so that the caller's rule applies.
    """
    for line in reply.strip().splitlines():
        line = re.sub(
            r"^\s*(standalone|rewritten)?\s*(follow-up\s*)?question\s*:\s*",
            "",
            line,
            flags=re.IGNORECASE,
        )
        line = line.strip().strip("\"'“”").strip()
        if line:
            return line if line.endswith("?") and len(line) <= limit else None
    return None


def condense(
    llm: LLM,
    question: str,
    history: Sequence[Turn],
    settings: Settings,
    deadline: float | None = None,
) -> str | None:
    """A standalone version of a follow-up question, written by the model (None if unusable).

    ``deadline``: the ``time.monotonic()`` by which the model must be done (``LLM.complete``).
    """
    messages = condense_messages(question, history, settings)
    bound = {"deadline": deadline} if deadline is not None else {}  # other models: no deadline
    reply = llm.complete(messages, max_tokens=96, **bound).text
    limit = min(settings.max_question_chars, 4 * len(question) + 300)
    condensed = clean_condensed(reply, limit)
    if condensed and " ".join(condensed.lower().split()) == " ".join(question.lower().split()):
        return None  # an echo is no rewrite: let the caller's rule resolve the follow-up
    return condensed
