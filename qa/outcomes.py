"""The three outcomes of a question, why each happens, and how each reads in plain text.

An answer's ``status`` and ``reason`` are data, decided once (``qa.answer.verdict``); the
answer's text is what the documents say (the answer, or the best guess). ``reply`` puts the two
together for a surface that shows only text (a terminal, an OpenAI client, a results file). The
web chat phrases the same data its own way (a "Not sure." banner above the guess). Nothing ever
parses these words back.
"""

from __future__ import annotations

from typing import Literal

from index.text import language_name

Status = Literal["answered", "uncertain", "refused"]
ANSWERED: Status = "answered"
UNCERTAIN: Status = "uncertain"  # "not sure": the best guess, said to be one
REFUSED: Status = "refused"  # "the documents don't say"
STATUSES = (ANSWERED, UNCERTAIN, REFUSED)

# Why an outcome is what it is (``Answer.reason``).
CONFIDENT = "confident"
NOT_CONFIDENT = "not-confident"
SETTLED = "settled"  # yes or no, as the documents of both things asked about say (answer/polar)
OFF_TOPIC = "off-topic"  # the documents are plainly not about the question
FOLLOW_UP = "follow-up"  # would be refused, but leans on an answered turn: not sure
DANGLING = "dangling"  # "he" names no one: not sure
LANGUAGE = "language"  # "language:es": a language the embedding model does not read
NO_PASSAGES = "no-passages"
MODEL = "model"  # a generated answer: the model answered, or said the passages do not
REASONS = (
    CONFIDENT, NOT_CONFIDENT, SETTLED, OFF_TOPIC, FOLLOW_UP, DANGLING, LANGUAGE, NO_PASSAGES, MODEL
)  # fmt: skip

NOT_IN_DOCUMENTS = "The documents do not answer this question."
NOT_SURE = "Not sure. The closest answer in the documents:"
MULTILINGUAL_SETTING = "QA_EMBEDDINGS=e5"


def language_of(reason: str) -> str | None:
    """The language code a "language:xx" reason names (None for other reasons)."""
    kind, _, code = reason.partition(":")
    return (code or "und") if kind == LANGUAGE else None


def other_language(code: str) -> str:
    """Why a question in another language is not answered, and the setting that reads it."""
    lang = language_name(code) if code != "und" else "written in another language"
    return (
        f"This question looks {lang}, and the documents are indexed with an English-only "
        f"model. Ask in English, or index them with {MULTILINGUAL_SETTING} (multilingual: "
        f"pip install -e '.[e5]', then qa ingest --rebuild) to ask in {lang}."
    )


def reply(status: str, reason: str, text: str, generated: bool = False) -> str:
    """The answer as one text: the outcome's words with the answer (or guess) they go with."""
    code = language_of(reason)
    if status == REFUSED:
        return other_language(code) if code else (text or NOT_IN_DOCUMENTS)
    if status == UNCERTAIN and not generated:
        note = f" {other_language(code)}" if code else ""
        return f"{NOT_SURE} {text}{note}".strip()
    return text
