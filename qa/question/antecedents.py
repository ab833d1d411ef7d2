"""Who "he", "she", "it", "they" and "there" stand for, from one earlier exchange of the chat.

The earlier question is read for its frame (``qa.question.exchange``). A pronoun then takes the
mention that frame makes salient:

- "he"/"she" after a who-question: the person the answer gives, found where the question's
  words (its verb above all) sit in the answer ("sung by [Jim Cummings]"), or the one a
  biography answer is about; otherwise the person the question is about (its subject first),
  never "US", "China", "Saturday" or "State Department";
- "it": the thing the question is about; the new thing its answer gives when the follow-up does
  not go on about the question's subject ("What did the US military shoot down?" ... "Where
  was it flying?"); the place a where-question's answer gives ("its capacity");
- "they": a pair or a list ("Blinken and Wang"), a plural subject ("US officials"), the group
  a who-question's answer gives, a band or a ministry;
- "there": the place a where-question's answer gives, else the place the question names.

A pronoun that the earlier question had goes on meaning what it meant there. How well a mention
of the answer sits where the question's words are comes from ``qa.question.alignment``;
``qa.question.followup`` puts the antecedents in place.
"""

from __future__ import annotations

import re

from qa.question.alignment import align, goes_on_about, is_new, lead
from qa.question.exchange import SENTENCE, Exchange, asks_person, asks_place
from qa.question.mention import GROUP, NAME, ORG, PERSON, PLACE, THING, TIME, Mention
from qa.question.word_forms import content_stems, stem
from qa.question.word_lists import ATTRIBUTE_NOUNS, ROLE_NOUNS, word_set

_NOT_THINGS = word_set(
    """year years day days month century time date percentage percent much many long often far
    old big large type kind sort way number amount age size"""
)  # "In what year ...?", "What type of ...?": the answer is no thing "it" could be
_BIOGRAPHY = re.compile(r"(?:^|[.!?]\s+)(?:He|She|His|Her)\b")
_HE_SHE = re.compile(r"\b(?:he|she|his|her)\b", re.IGNORECASE)
_PREDICATE_END = re.compile(r"\b(?:is|was|are|were)(?:\s+(?:for|about|like))?\s*\?*\s*$")


def _fits(m: Mention, cls: str, excluded: set[str]) -> bool:
    """Whether a pronoun of ``cls`` can stand for ``m`` (not a name the follow-up says itself)."""
    words = m.key.split()
    if m.key in excluded or (words and words[-1] in excluded) or m.role == "owned":
        return False  # "its reliance": a thing of something else's
    if cls in ("he", "she"):
        if m.kind not in (PERSON, NAME) or m.plural or m.role == "title":
            return False
        return m.gender is None or m.gender == ("m" if cls == "he" else "f")
    if cls == "it":
        return m.kind in (THING, ORG, PLACE, NAME) and not m.plural
    if cls == "they":
        return m.kind == GROUP or m.plural
    return m.kind == PLACE  # there


def _best(ex: Exchange, found: list[Mention], cls: str, excluded: set[str]) -> Mention | None:
    found = [m for m in found if _fits(m, cls, excluded)]
    return max(found, key=lambda m: (align(ex, m), -m.start)) if found else None


def _person_given(ex: Exchange, pool: list[Mention]) -> Mention:
    """The person a who-question's answer gives: where the question's words are, a person more
    than a name, the one a biography ("He ...", "His ...") is about, not a possessor ("Nelson
    Rockefeller's Committee"); one person named twice scores once, by the full name."""
    bio = 1.0 if _BIOGRAPHY.search(ex.answer) else 0.0
    if bio:  # what the question asks, said of "he": said of the one the biography is about
        stems = content_stems(ex.question)
        said = [
            len(content_stems(x) & stems) for x in SENTENCE.split(ex.answer) if _HE_SHE.search(x)
        ]
        bio += min(3, max(said, default=0))

    def score(g: Mention) -> float:
        return align(ex, g) + (g.kind == PERSON) + lead(ex, g) * (1 + bio) - 3.0 * g.possessive

    best: dict[str, tuple[float, Mention]] = {}
    for g in pool:
        same = next((k for k in best if g.key.split()[-1] == k.split()[-1]), None)
        if same is None:
            best[g.key] = (score(g), g)
        else:
            s, h = best[same]
            best[same] = (max(s, score(g)), h if len(h.text) >= len(g.text) else g)
    return max(best.values(), key=lambda x: (x[0], -x[1].start))[1]


# --- the antecedents ------------------------------------------------------------------------------


def antecedent(cls: str, ex: Exchange, excluded: set[str], follow_up: str = "") -> Mention | None:
    """What a pronoun of ``cls`` ("he", "she", "it", "they", "there") stands for, from one
    earlier exchange; None when nothing there fits. ``excluded``: the names the follow-up says
    itself (a pronoun does not mean them); ``follow_up``: the follow-up question."""
    bound = ex.bound.get(cls)
    if bound is not None and _fits(bound, cls, excluded):
        return bound  # the pronoun goes on meaning what it meant in that question
    given = [m for m in ex.given if is_new(ex, m)]
    if cls in ("he", "she"):
        return _person(cls, ex, given, excluded)
    if cls == "it":
        return _thing(ex, given, excluded, follow_up)
    if cls == "they":
        return _group(ex, given, excluded)
    if asks_place(ex):
        m = _best(ex, [g for g in given if g.kind in (PLACE, NAME)], "there", excluded)
        if m is None:
            m = max((g for g in given if g.kind == NAME), key=lambda g: align(ex, g), default=None)
        if m is not None:
            return m
    places = [m for m in ex.asked if m.kind == PLACE and m.key not in excluded]
    return places[-1] if places else None


def _person(cls: str, ex: Exchange, given: list[Mention], excluded: set[str]) -> Mention | None:
    if ex.wh_role == "identity" and ex.identity:
        who = Mention(ex.identity, 0, 0, PERSON)
        return who if _fits(who, cls, excluded) else None
    if asks_person(ex):  # "Who met Wang?", "Who did Blinken meet?": the one the answer gives
        pool = [
            g for g in given if g.is_name and g.kind in (PERSON, NAME) and _fits(g, cls, excluded)
        ]
        if pool:
            return _person_given(ex, pool)
    for pool in (  # the question's subject, else its first person; then the answer's first
        [m for m in ex.asked if m.kind in (PERSON, NAME) and m.is_name],
        [m for m in ex.asked if m.kind == PERSON],
        [m for m in ex.given if m.kind in (PERSON, NAME) and m.is_name],
    ):
        ranked = sorted(pool, key=lambda m: (m.role != "subject", m.start))
        m = next((m for m in ranked if _fits(m, cls, excluded)), None)
        if m is not None:
            return m
    return None


def _thing(
    ex: Exchange, given: list[Mention], excluded: set[str], follow_up: str
) -> Mention | None:
    if ex.wh_role == "what-is" and ex.identity:
        topic = _attribute_owner(ex)
        return topic if _fits(topic, "it", excluded) else None
    s = ex.subject
    subject = s if s is not None and s.kind not in (PERSON, TIME, GROUP) else None
    if subject is not None and subject.kind == NAME and len(subject.text.split()) > 1:
        subject = None  # "William Maclure": a person's name, most likely
    if subject is not None and not _fits(subject, "it", excluded):
        subject = None
    asked_for = _asked_for(ex, given, excluded)
    if subject is not None:
        if asked_for is not None and not goes_on_about(ex, follow_up, subject):
            return asked_for  # "What did the US military shoot down?" ... "Where was it flying?"
        return subject  # "What has Beijing refused?" ... "Why has it refused?"
    if asks_place(ex):  # "Where did the Lewiston Maineiacs play?" ... "its capacity"
        m = _best(ex, [g for g in given if g.kind in (PLACE, THING, NAME)], "it", excluded)
        if m is not None:
            return m
    if asked_for is not None:
        return asked_for
    things = [m for m in ex.asked if m.kind in (THING, ORG, NAME)]
    things.sort(key=lambda m: (m.role != "object", m.kind == NAME, -m.start))
    places = [m for m in reversed(ex.asked) if m.kind == PLACE]
    return next((m for m in [*things, *places] if _fits(m, "it", excluded)), None)


def _asked_for(ex: Exchange, given: list[Mention], excluded: set[str]) -> Mention | None:
    """The thing the question asked for, as its answer gives it ("What did the US military shoot
    down?": "a suspected surveillance balloon"; "To whom did he submit the map?": an organisation).
    """
    thing_wh = ex.wh in ("what", "which") and not (
        ex.wh_noun and ex.wh_noun.split()[-1] in _NOT_THINGS
    )
    if _PREDICATE_END.search(ex.question):
        thing_wh = False  # "What does China say the balloon was?": no new thing in the answer
    whom = ex.wh in ("who", "whom") and ex.wh_role == "object"
    if not ((thing_wh and (ex.wh_role == "subject" or ex.subject is not None)) or whom):
        return None
    kinds = (ORG,) if whom else (THING, ORG, NAME, PLACE)
    pool = [g for g in given if g.kind in kinds and _fits(g, "it", excluded)]
    if not whom:  # "the centrifugal governor": a thing here, whatever a governor may be
        pool += [g for g in given if g.kind == PERSON and not g.is_name and not g.plural
                 and g.key not in excluded]  # fmt: skip
    head = stem(ex.wh_noun.split()[-1]) if ex.wh_noun else ""

    def typed(g: Mention) -> bool:  # "What famous fight ...?": "... the Title fight"
        return bool(head) and stem(g.text.split()[-1]) == head

    if ex.wh_role == "subject" and ex.subject is None:  # it stands before the question's verb
        pool = [g for g in pool if align(ex, g, sides=(0.0, 1.0)) > 0 or typed(g)]
    if not pool:
        return None
    return max(pool, key=lambda g: (
        align(ex, g) + g.is_name + lead(ex, g) - (g.kind == PERSON) + 2 * typed(g), -g.start
    ))  # fmt: skip


def _group(ex: Exchange, given: list[Mention], excluded: set[str]) -> Mention | None:
    s = ex.subject
    if (
        ex.wh_role == "identity"
        and ex.identity
        and ex.question.split()[1].lower() in ("are", "were")
    ):
        return Mention(ex.identity, 0, 0, GROUP, plural=True)  # "Who are the members of X?"
    group = _coordinated(ex.question, ex.asked, None, excluded)
    if group is None and s is not None and s.plural and _fits(s, "they", excluded):
        group = s  # "Who do coordinating lead authors report to?" ... "What are they ...?"
    if group is None:
        group = _coordinated(ex.answer, ex.given, ex, excluded)
    if (
        group is None
        and ex.wh in ("who", "whom")
        and ex.wh_role == "object"
        and (s is not None and s.kind in (PERSON, NAME) and s.is_name)
    ):  # "Who did Blinken meet?" ... "What did they discuss?": Blinken and the one he met
        pool = [
            g for g in given if g.is_name and g.kind in (PERSON, NAME) and g.key not in excluded
        ]
        if pool:
            other = _person_given(ex, pool)
            return Mention(f"{s.text} and {other.text}", 0, 0, GROUP, plural=True)
    if group is None and asks_person(ex):  # "Who captured him?" "the Tayichi'ud"
        pool = [
            g
            for g in given
            if (g.kind == GROUP and g.plural)
            or (g.is_name and g.kind in (NAME, THING, ORG, PLACE, GROUP) and g.key not in excluded)
        ]
        group = max(pool, key=lambda g: (align(ex, g), -g.start)) if pool else None
    if group is not None:
        return group
    for m in sorted(ex.asked, key=lambda m: m.role != "subject"):
        if m.plural and _fits(m, "they", excluded):
            return m
    if s is not None and s.kind in (ORG, GROUP) and s.key not in excluded:
        return s  # a band, a team, a ministry
    return _best(ex, ex.given, "they", excluded)


def _attribute_owner(ex: Exchange) -> Mention:
    """ "What is X?": X; for "the capacity of X" X; for "the name of the rock" the name given."""
    x = ex.identity or ""
    m = re.match(r"(?:the|a|an)\s+(\w+)\s+of\s+(.+)$", x, re.IGNORECASE)
    if m and m.group(1).lower() in ATTRIBUTE_NOUNS:
        owner = _cut(m.group(2))
        if m.group(1).lower() == "name":  # a name whose head is "Rock"
            head = stem(owner.split()[-1])
            given = [g for g in ex.given if g.is_name and is_new(ex, g) and g.kind != PERSON]
            if given:
                return max(given, key=lambda g: (
                    g.kind != NAME, align(ex, g) + 2 * (stem(g.text.split()[-1]) == head),
                    -g.start))  # fmt: skip
        return Mention(owner, 0, 0, THING)
    return Mention(_cut(x), 0, 0, THING)


def _cut(phrase: str) -> str:
    """A noun phrase without the clause after it ("the rock found during ..." -> "the rock")."""
    m = re.match(r"((?:the|a|an)\s+)?([^,;]+?)(?:\s+(?:(?:that|which|who|whose|where)\b|(?:found"
                 r"|made|used|built|known|called|named|located|based|discovered|written)\s+(?:during"
                 r"|in|by|at|on|for|as|from|with)\b).*)?$", phrase, re.IGNORECASE)  # fmt: skip
    return (phrase if not m else (m.group(1) or "") + m.group(2)).strip()


_AND = re.compile(
    r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s+)(?:[Tt]he\s+)?(?:[A-Z][a-z]+(?:an|ese|ish|ch)\s+)?"
    r"(?:(?:his|her|their)\s+)?(?:(?:[a-z]+)\s+)?",
)  # "Joe Biden and Chinese leader Xi Jinping", "Temüjin and his brother Khasar"


def _coordinated(
    text: str, found: list[Mention], ex: Exchange | None, excluded: set[str]
) -> Mention | None:
    """ "Blinken and Wang", "Lovell, Jack Swigert, and Fred Haise": the group they make (in an
    answer, ``ex`` given, the one that sits best; organisations and groups may be in it)."""
    kinds = (PERSON, NAME) if ex is None else (PERSON, NAME, ORG, GROUP)
    people = [m for m in found if m.kind in kinds and m.role != "title"]
    groups = []
    for i, first in enumerate(people):
        members = [first]
        for nxt in people[i + 1 :]:
            gap = text[members[-1].end : nxt.start]
            filler = re.findall(r"[a-z]+", gap.lower())
            if _AND.fullmatch(gap) and all(
                w in ("and", "the", "his", "her", "their")
                or w in ROLE_NOUNS
                or w.endswith(("an", "ese", "ish", "ch"))
                for w in filler
            ):
                members.append(nxt)
            else:
                break
        if len(members) > 1 and not any(m.key in excluded for m in members):
            end = members[-1].end
            groups.append(Mention(text[first.start : end], first.start, end, GROUP, plural=True))
    if not groups:
        return None
    return groups[0] if ex is None else max(groups, key=lambda g: (align(ex, g), -g.start))
