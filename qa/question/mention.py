"""A mention: a name, a noun phrase or a time in a text, with where it is and what it is.

Its kind is one of ``PERSON``, ``GROUP``, ``THING``, ``PLACE``, ``ORG``, ``TIME`` and ``NAME`` (a
name whose kind the words around it do not tell). ``norm`` is the form in which two mentions
compare ("Temüjin" and "Temujin" are one name).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache

PERSON, GROUP, THING, PLACE, ORG, TIME, NAME = (
    "person", "group", "thing", "place", "org", "time", "name",
)  # fmt: skip


@dataclass
class Mention:
    """One mention: its text as it would stand in a question, where it is, and what it is."""

    text: str
    start: int
    end: int
    kind: str
    plural: bool = False
    gender: str | None = None  # "f", "m"
    possessive: bool = False
    is_name: bool = False
    role: str = "other"  # "subject", "object", "title" (no one's name), "owned" ("its X")

    @cached_property
    def key(self) -> str:
        return norm(self.text)


@lru_cache(maxsize=4096)
def norm(text: str) -> str:
    """A mention's words, lower-case, without accents, "the" and possessive endings (to compare:
    "Temüjin" and "Temujin" are one name)."""
    text = text.replace("’", "'").lower()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"'s\b|s'(?=\s|$)", "", text)
    return " ".join(w for w in re.findall(r"[\w.-]+", text) if w not in ("the", "a", "an"))
