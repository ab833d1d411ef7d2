"""Where a mention of an earlier answer sits with respect to the question's words.

"Who did Blinken meet?" answered "Blinken met ... Wang Yi": the answer's name that stands where
the question's wh-word would, after the question's words, is the one asked for; "Who met X?"
wants it before them. This scores each mention of the answer for that (``align``), tells the
names that open the answer or one of its sentences (``lead``) and those the question did not
already make (``is_new``), and whether a follow-up goes on about the question's subject
(``goes_on_about``). ``qa.question.antecedents`` weighs them.
"""

from __future__ import annotations

import re

from qa.question.exchange import SENTENCE, TOKEN, Exchange
from qa.question.mention import NAME, ORG, PERSON, PLACE, Mention, norm
from qa.question.pronouns import PRONOUNS
from qa.question.word_forms import content_stems, stem
from qa.question.word_lists import STOP_WORDS

_FLAT_PRONOUNS = frozenset(stem(w) for words in PRONOUNS.values() for w in words)
_LOWER = re.compile(r"\b[a-z]+")
_SENTENCE_BEFORE = re.compile(r"[.!?]\s+(?=[A-Z“\"])")
_SENTENCE_AFTER = re.compile(r"[.!?](?:\s+|$)")
_ASIDE = re.compile(
    r"\b(?:with the support of|along with|together with|according to|as well as)\s+"
    r"(?:[\w’'-]+\s+){0,6}$"
)  # "with the support of ... the minister Bayan": not the one who did it
_AGENT = re.compile(r"(\w+)\s+by\s+(?:(?:the|a|an)\s+)?(?:[\w-]+\s+){0,2}$")  # "sung by [X]"
_FUTURE = re.compile(r"\b(?:will|next|going to|expected|plans?|planned|is to|are to|soon)\b", re.I)
_PAST = re.compile(r"\b(?:already|has|had|have|was|were|last|earlier|previously)\b", re.I)
_PRO_VERB = re.compile(r"\bdo(?:es|ne)?\s+(?:that|this|so|it)\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"(?<=\s)[A-Z][\w’'.-]*")


def align(ex: Exchange, m: Mention, sides: tuple[float, float] | None = None) -> float:
    """How well a mention of the answer sits where the question's wh-word would, in its sentence:
    after the question's words for "Who did X meet?" ("X met ... Wang Yi"), before them for
    "Who met X?"; the question's verb counts double, a number ("the 1960s") on either side
    triple; "sung by [X]" is the passive of "Who sang ...?"; an aside ("with the support of")
    is not who did it; after "next" or "will", a place the answer says will be."""
    key = (m.start, m.end, m.text, sides)
    if key in ex._aligned:
        return ex._aligned[key]
    stems = content_stems(ex.question) - content_stems(m.text)
    left = _SENTENCE_BEFORE.split(ex.answer[max(0, m.start - 80) : m.start])[-1]
    right = _SENTENCE_AFTER.split(ex.answer[m.end : m.end + 80])[0]
    before, after = TOKEN.findall(left)[-8:], TOKEN.findall(right)[:8]
    weight = sides or {"subject": (0.5, 1.0), "object": (1.0, 0.5)}.get(ex.wh_role or "", (1, 1))
    close = ex.answer[max(0, m.start - 40) : m.start]
    score = 0.0
    agent = _AGENT.search(close)
    if agent and ex.wh_role == "subject":
        weight = (1.0, weight[1])
        if ex.verb and stem(agent.group(1)) == ex.verb:
            score += 3.0
    seen: set[tuple[int, str]] = set()
    for side, found in ((0, before[::-1]), (1, after)):
        for k, w in enumerate(found):
            st = stem(w)
            if st not in stems or (side, st) in seen:
                continue
            seen.add((side, st))
            near = 1 + 1 / (1 + k)
            if any(c.isdigit() for c in w):
                score += 3.0 * near
            else:
                score += (2.0 if st == ex.verb else 1.0) * weight[side] * near
    if _FUTURE.search(ex.question):
        tense = " ".join(before[-6:])
        score += 1.0 if _FUTURE.search(tense) else -0.5 if _PAST.search(tense) else 0.0
    if _ASIDE.search(ex.answer[max(0, m.start - 60) : m.start]):
        score -= 2.0
    ex._aligned[key] = score
    return score


def lead(ex: Exchange, m: Mention) -> float:
    """1 for a name that opens the answer or one of its sentences (the answer's own subject)."""
    before = ex.answer[max(0, m.start - 3) : m.start].strip(' "“(')
    return 1.0 if m.start < 3 or before.endswith((".", "!", "?")) else 0.0


def is_new(ex: Exchange, m: Mention) -> bool:
    """A mention of the answer that the question does not already make ("Blinken" is not new
    after "Who did Blinken meet?"; "Henry J. Kaiser" is, after "Who founded Kaiser Ventures?")."""
    if m.key in {a.key for a in ex.asked} or f" {m.key} " in f" {norm(ex.question)} ":
        return False
    named = {re.sub(r"[’']s$", "", w.lower()) for w in _CAPITALISED.findall(ex.question)}
    if m.kind in (PERSON, NAME):
        named -= {
            w for a in ex.asked if a.is_name and a.kind in (ORG, PLACE) for w in a.key.split()
        }
    words = m.key.split()
    return bool(words) and words[-1] not in named


def goes_on_about(ex: Exchange, follow_up: str, subject: Mention) -> bool:
    """The follow-up goes on about the subject: it repeats the question's words ("refused" ...
    "refused"), says "do that", or uses a word the answer says of the subject ("Beijing ...
    accused the US" ... "What did it accuse the US of?")."""
    if _PRO_VERB.search(follow_up):
        return True
    said = {stem(w) for w in _LOWER.findall(follow_up) if w not in STOP_WORDS} - _FLAT_PRONOUNS
    if said & {stem(w) for w in _LOWER.findall(ex.question) if w not in STOP_WORDS}:
        return True
    return any(
        subject.key
        and subject.key in norm(sentence)
        and said & {stem(w) for w in _LOWER.findall(sentence) if w not in STOP_WORDS}
        for sentence in SENTENCE.split(ex.answer)
    )
