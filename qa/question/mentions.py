"""The people, things, groups and places a text mentions, typed without a model.

A follow-up's "he", "it", "they" and "there" take one of the mentions of the conversation
(``qa.question.followup``). A mention (``qa.question.mention``) is a name ("Wang Yi", "the Genesis
Rock", "US"; found by ``qa.question.names``, typed by ``qa.question.name_kinds``) or a noun phrase
("the balloon", "US intelligence officials"; ``qa.question.phrases``, which finds the times too).
Here they are put in one list, in order: where a noun phrase holds a name ("the Genesis Rock") one
of them stands, and a name a known person has ("Wang" where "Wang Yi" is one) is a person.
"""

from __future__ import annotations

import re

from qa.question.mention import NAME, PERSON, THING, Mention, norm
from qa.question.name_kinds import name_gender
from qa.question.names import forget_names, names
from qa.question.phrases import forget_noun_phrases, noun_phrases
from qa.question.word_forms import content_stems, stem


def mentions(text: str, people: set[str] | None = None) -> list[Mention]:
    """Every mention in a text, in order; a name a known person has ("Wang") is a person. A name
    of no words once normalised ("À") is none."""
    found = [m for m in names(text) if m.kind != "adjective" and m.key]
    if people:
        for m in found:
            if m.kind == NAME and _known(m.key, people):
                m.kind = PERSON
                m.gender = m.gender or name_gender(text, m)
    for np in noun_phrases(text):
        inside = [m for m in found if np.start <= m.start and m.end <= np.end]
        if any(m.start < np.end and np.start < m.end for m in found if m not in inside):
            continue
        if inside and re.sub(r"\s+of\s+.*$", "", np.text).split()[-1][:1].isupper():
            continue  # "the Genesis Rock": the name is the mention
        found = [m for m in found if m not in inside]
        found.append(np)
    found.sort(key=lambda m: m.start)
    return _titles_with_and(text, found)


def _titles_with_and(text: str, found: list[Mention]) -> list[Mention]:
    """ "Kiss and Tell is a 1945 film", "was Kiss and Tell released": one title, not two names."""
    out: list[Mention] = []
    for m in found:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.is_name
            and m.is_name
            and len(prev.text.split()) == 1
            and len(m.text.split()) == 1
            and text[prev.end : m.start] == " and "
            and (
                re.match(r"\s+(?:is|was|has)\b", text[m.end :])
                or re.search(r"\b(?:is|was|has)\s+$", text[: prev.start])
            )
        ):
            out[-1] = Mention(text[prev.start : m.end], prev.start, m.end, THING, is_name=True)
            continue
        out.append(m)
    return out


def _known(key: str, people: set[str]) -> bool:
    """ "Wang" and "Shirley Temple" are known where "Wang Yi" and "Shirley Temple Black" are."""
    words = key.split()
    if key in people or (words and words[-1] in people):
        return True
    return any(p.startswith(key + " ") for p in people)


def people_in(text: str) -> dict[str, str | None]:
    """The persons a text names, each with the gender the text gives it (to type other texts)."""
    out: dict[str, str | None] = {}
    for m in names(text):
        if m.kind == PERSON and m.role != "title":
            for key in (m.key, m.key.split()[-1]):
                out[key] = out.get(key) or m.gender
    return out


def pronoun_gender(text: str, m: Mention, others: list[Mention]) -> str | None:
    """ "she" or "he" that follows a person in its sentence before any other person does."""
    end = len(text)
    for o in others:
        if o.start > m.end and o.kind == PERSON:
            end = o.start
            break
    span = text[m.end : end]
    stop = re.search(r"[.!?]\s+(?!(?:She|He|Her|His)\b)", span)
    span = span[: stop.start()] if stop else span
    if re.search(r"\b(?:she|her|herself)\b", span, re.IGNORECASE):
        return "f"
    if re.search(r"\b(?:he|him|his|himself)\b", span, re.IGNORECASE):
        return "m"
    return None


def clear_caches() -> None:
    """Forget the texts read so far (to time reading them afresh)."""
    forget_names()
    forget_noun_phrases()
    for cached in (content_stems, stem, norm):
        cached.cache_clear()
