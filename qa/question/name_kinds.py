"""What kind a name is, and a person's gender, told by the words around it (no model).

A title or a role before a name ("spokesman Ned Price", "President Grover Cleveland") or a speech
verb after it ("Wang called") make a person; a country, a place word ("Harvard Yard", "St. Johns
River") or "in"/"from" before it a place; an organisation word or an acronym ("State
Department", "CGTN") an organisation; "the" before a name ("the Apple Remote") a thing, or a
group when plural ("the British"). A name the words do not type stays ``NAME``; "Italian",
"Chinese" before a noun are adjectives, no mention. ``qa.question.names`` finds the names.
"""

from __future__ import annotations

import re

from qa.question.mention import GROUP, NAME, ORG, PERSON, PLACE, THING, Mention
from qa.question.word_forms import POSSESSIVE, WORD, is_plural
from qa.question.word_lists import (
    DEMONYMS,
    FEMALE_WORDS,
    MALE_WORDS,
    MOTION_WORDS,
    ORG_HEADS,
    PLACE_HEADS,
    PLACE_PREPS,
    PLACES,
    ROLE_NOUNS,
    SPEECH_VERBS,
    STOP_WORDS,
    TITLES,
)

ORG_PLURAL = re.compile(r"(?:ies|ures|ions)$")  # "Steel Industries", "United Nations"
_DEMONYM = re.compile(r"(?:ish|ch|ese|ans|ians)$")  # "the British", "the Mongolians"
_ADJECTIVE = re.compile(r"(?:ian|ese|ish|ean|can)$")  # "Italian", "Korean", "American"
_IN_CITY_STATE = re.compile(r"\b(?:in|at|from|near)\s+[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*)*,\s*$")
_WHO_OR_BORN = re.compile(r"\s*(?:,\s*who\b|\((?:born|[^)]*\d{4}))")
_THEN_PLACE = re.compile(r"\s*,\s*[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?\s*(?:[,.;)]|$)")
_APPOSITIVE = re.compile(r"\s*,\s*(?:the|a|an)\s+([^,;.()]*)")
_LOWER_WORD = re.compile(r"[a-z]+")


def name_mention(text: str, run: list[re.Match], kind: str | None, possessive: bool) -> Mention:
    """A run of words as a name: its kind (``kind``, or the one the words around it tell), a
    person's gender, a group's number; without the possessive ending."""
    start, end = run[0].start(), run[-1].end()
    raw = text[start:end]
    if possessive:
        raw = POSSESSIVE.sub("", raw)
        end = start + len(raw)
    words = raw.split()
    m = Mention(raw, start, end, kind or NAME, possessive=possessive, is_name=True)
    if kind is None:
        m.kind = _name_kind(text, m, words)
    if m.kind == PERSON:
        m.gender = name_gender(text, m)
    m.plural = m.kind == GROUP and (is_plural(words[-1]) or _DEMONYM.search(words[-1]) is not None)
    return m


def _name_kind(text: str, m: Mention, words: list[str]) -> str:
    lower = [w.lower().rstrip(".") for w in words]
    key = " ".join(lower)
    before = [w.lower() for w in WORD.findall(text[max(0, m.start - 40) : m.start])][-3:]
    after_text = text[m.end : m.end + 40]
    after = [w.lower() for w in WORD.findall(after_text)][:2]
    if key in PLACES or key.replace(".", "") in PLACES:
        return PLACE
    if _IN_CITY_STATE.search(text[max(0, m.start - 60) : m.start]):
        return PLACE  # "in Ontario, California"
    if lower[0] in TITLES or (len(lower) > 1 and lower[-2] in TITLES):
        return PERSON  # "Governor of Victoria", "Queen of Australia"
    if lower[-1] in ORG_HEADS or lower[0] in ORG_HEADS:
        return ORG
    if len(words) > 1 and ORG_PLURAL.search(lower[-1]):
        return ORG  # "Kaiser Ventures", "Steel Industries", "United Nations"
    if lower[-1] in PLACE_HEADS or lower[0] in ("st", "mount", "lake", "fort", "port", "cape"):
        return PLACE
    if words[0].isupper() and len(words[0]) > 1 and not words[0].endswith("."):
        return ORG  # an acronym: CNN, CGTN, NASA, "UEFA Euro"
    if before and before[-1] in ("the",) and not (after and after[0] in ROLE_NOUNS):
        if len(words) == 1 and _DEMONYM.search(words[0]) and not (after and after[0][:1].isupper()):
            return GROUP  # "the British", "the Chinese"
        return GROUP if is_plural(lower[-1]) else THING
    if before and before[-1] in ROLE_NOUNS and before[-1] not in ("team", "group", "member"):
        return PERSON  # "spokesman Ned Price", "his future wife Börte"
    if _WHO_OR_BORN.match(after_text):
        return PERSON
    if after and after[0] in SPEECH_VERBS:
        return PERSON
    if before and before[-1] in PLACE_PREPS and (before[-1] != "to" or set(before) & MOTION_WORDS):
        return PLACE
    if _THEN_PLACE.match(after_text) and (before and before[-1] in PLACE_PREPS):
        return PLACE
    appositive = _APPOSITIVE.match(after_text)
    if appositive and set(_LOWER_WORD.findall(appositive.group(1))[:5]) & ROLE_NOUNS:
        return PERSON  # "Deke Slayton, the grounded Mercury astronaut"
    if len(words) > 1:
        return NAME
    if (_ADJECTIVE.search(lower[0]) or lower[0] in DEMONYMS) and (
        not before or before[-1] != "the"
    ):
        return "adjective"  # "(Italian: ...)", "the Italian physicist"
    if (
        re.search(r"(?:an|ic)$", lower[0])
        and after
        and after[0].isalpha()
        and (after[0] not in SPEECH_VERBS and after[0] not in STOP_WORDS)
    ):
        return "adjective"  # "Chinese officials", "Olympic games"
    return NAME


def name_gender(text: str, m: Mention) -> str | None:
    """ "f" or "m" from a word just before a person ("his wife Börte") or its first word."""
    before = [w.lower() for w in WORD.findall(text[max(0, m.start - 30) : m.start])][-2:]
    for w in reversed(before):
        if w in FEMALE_WORDS and w not in ("her", "hers", "she"):
            return "f"
        if w in MALE_WORDS and w not in ("his", "him", "he"):
            return "m"
    first = m.text.split()[0].lower().rstrip(".")
    if first in FEMALE_WORDS:
        return "f"
    if first in MALE_WORDS:
        return "m"
    return None
