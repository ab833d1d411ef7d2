"""The noun phrases and the times of a text: "the balloon", "US intelligence officials", "some
students"; "on Saturday", "in 2010", "last week". A noun phrase is a person or a group when its
head is a role ("the spokesman", "the miners"), else a thing; a run of capitalised words is a
name (``qa.question.names``), not a noun phrase.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from qa.question.mention import GROUP, PERSON, THING, TIME, Mention
from qa.question.word_forms import POSSESSIVE, capitalised, is_plural
from qa.question.word_lists import (
    FEMALE_WORDS,
    MALE_WORDS,
    NAME_PARTICLES,
    OPENERS,
    ROLE_NOUNS,
    STOP_WORDS,
    TIME_WORDS,
    VERB_FORMS,
)

TIME_PHRASE = re.compile(
    r"\b(?:(?:on|in|at|during|since|by|before|after|until|from)\s+)?(?:(?:this|last|next|that)"
    r"\s+(?:week|month|year|weekend|morning|evening|night|spring|summer|autumn|fall|winter)"
    r"|(?:early|late|mid)[- ](?:[A-Z]\w+|\d{4}s?)|today|yesterday|tomorrow|tonight"
    r"|(?:"
    + "|".join(sorted(TIME_WORDS, key=len, reverse=True))
    + r")(?:\s+\d{1,2})?(?:,?\s+\d{4})?"
    r"|\d{4}s?(?:[–-]\d{2,4})?)\b",
    re.IGNORECASE,
)
_NP = re.compile(
    r"(?<![\w’'])(?P<det>the|a|an|this|these|those|some|many|several|most|both|all|its|their)"
    r"\s+(?=(?P<body>[\w’'-]+(?:\s+[\w’'-]+){0,8}))",
    re.IGNORECASE,
)  # a determiner and the words after it (looked ahead: noun phrases may start inside others)


def noun_phrases(text: str) -> list[Mention]:
    """ "the balloon", "the US intelligence officials", "US officials", "some students"."""
    return [copy.copy(m) for m in _noun_phrases(text)]


@lru_cache(maxsize=512)
def _noun_phrases(text: str) -> tuple[Mention, ...]:
    out: list[Mention] = []
    for m in _NP.finditer(text):
        body = _np_body(m.group("body"))
        if not body:
            continue
        det = m.group("det")
        start = m.start()
        words = body.split()
        head = re.sub(r"\s+of\s+.*$", "", body).split()[-1].lower()
        if all(capitalised(w) or w.lower() in NAME_PARTICLES for w in words):
            continue  # a name: names() has it
        det = det.lower()
        if re.match(r"other hand|same time|meantime|long run|end of the day", body, re.IGNORECASE):
            continue
        definite = det in ("the", "a", "an", "this", "these", "those", "its", "their")
        text_ = f"{'the' if definite else det} {body}"  # taken up again: "the invitation"
        kind = PERSON if head in ROLE_NOUNS or head.rstrip("s") in ROLE_NOUNS else THING
        plural = is_plural(head)
        if plural and kind == PERSON:
            kind = GROUP
        elif plural:
            kind = GROUP if head.rstrip("s") in ROLE_NOUNS or head in ROLE_NOUNS else THING
        g = "f" if head in FEMALE_WORDS else "m" if head in MALE_WORDS else None
        role = "owned" if det in ("its", "their") else "other"  # "its balloon": owned by another
        out.append(
            Mention(text_, start, m.end() + len(body), kind, plural=plural, gender=g, role=role)
        )
    for m in re.finditer(
        r"(?<![\w’'])(?P<mod>(?:[A-Z][\w.]*\s+)+)(?P<head>[a-z][\w-]*)\b", text
    ):  # "US officials", "British troops"
        head = m.group("head")
        if is_plural(head) and (head.rstrip("s") in ROLE_NOUNS or head in ROLE_NOUNS):
            mod = m.group("mod").split()
            if mod[0].lower() in OPENERS and len(mod) == 1:
                continue
            out.append(Mention(m.group(0), m.start(), m.end(), GROUP, plural=True))
    for m in re.finditer(r"\b(?:by|of|the)\s+(?P<head>[a-z][\w-]*s)\b", text):
        head = m.group("head")
        if head not in STOP_WORDS and (
            head.rstrip("s") in ROLE_NOUNS or head in ROLE_NOUNS
        ):  # "by miners", "of the miners"
            out.append(Mention(head, m.start("head"), m.end("head"), GROUP, plural=True))
    return tuple(out)


def _np_body(body: str) -> str:
    words = body.split()
    kept: list[str] = []
    if len(words) > 1 and words[0].lower().endswith("ed") and words[1].lower() in STOP_WORDS:
        return ""  # "This triggered one of ...": a verb, not a noun
    for i, w in enumerate(words):
        lower = w.lower().replace("’", "'")
        if lower == "of" and kept and i + 1 < len(words):
            rest = words[i + 1 :]
            if rest[0].lower() == "the":
                rest = rest[1:]
            names_ = []
            for r in rest:
                if not capitalised(r):
                    break
                names_.append(r.rstrip(",.;:?!"))
                if r[-1:] in ",.;:?!":
                    break
            after_names = rest[len(names_)] if len(rest) > len(names_) else ""
            if names_ and after_names[:1].islower() and after_names.lower() not in STOP_WORDS:
                break  # "the location of the World Heavyweight Title fight": not "of" a name
            if names_:  # "the members of WINNER"
                kept.append(
                    "of " + ("the " if words[i + 1].lower() == "the" else "") + " ".join(names_)
                )
                break
        if (lower in STOP_WORDS and not w.isupper()) or lower in VERB_FORMS or lower in TIME_WORDS:
            break
        if i and lower.endswith("ed") and not capitalised(w):
            break  # "the balloon shot down": a verb after the noun
        if POSSESSIVE.search(w) and i:
            break
        kept.append(w.rstrip(",.;:?!"))
        if w[-1:] in ",.;:?!":
            break
    while kept and (kept[-1].lower().endswith("ly") or kept[-1].lower() in NAME_PARTICLES):
        kept.pop()
    return " ".join(kept)


def times(text: str) -> list[Mention]:
    return [Mention(m.group(0), m.start(), m.end(), TIME) for m in TIME_PHRASE.finditer(text)]


def forget_noun_phrases() -> None:
    """Forget the texts read so far."""
    _noun_phrases.cache_clear()
