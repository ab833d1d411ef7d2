"""The question's words as an answer must match them.

A question's words do not all name its topic. Some only shape it: modal and light verbs, verbs
and phrases that ask for an event ("happen", "take place", "was held") or a meaning, first- and
second-person pronouns ("my", "I", "you" name the people in the conversation, not the documents'
subject; "he" does, and stays), the pieces of contractions. An answer seldom repeats them, so
they must not count against a passage. The degree word after "how" ("how often", "how old") asks
for a quantity: any number in a text answers it ("every 6 weeks"), and a text without one does
not, however many other words it shares.

Both lists are general English, written from grammar before any measurement.
"""

from __future__ import annotations

import re

from index.text import CARDINALS, MAGNITUDES, tokenize, weighted_share
from index.text import words as lower_words
from qa.question.word_lists import AUXILIARIES, HOW_TO_OPENINGS

NUMBER_WORD = "#number"  # stands for the degree word(s) of a "how ..." question in the weights
NUMBER = re.compile(
    rf"\d|\b({CARDINALS}|{MAGNITUDES}|dozen|half|once|twice|several|few)\b", re.IGNORECASE
)
_COUNT = rf"(\d[\d,.]*|an?|{CARDINALS}|several|few|many)"
_TIME_UNIT = r"(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(y|ies))"
_LENGTH_UNIT = r"(miles?|km|kilomet(re|er)s?|met(re|er)s?|feet|foot|yards?|inch(es)?|cm|mm)"
# What each degree word asks for: "how often" is answered by a frequency, "how old" by an age,
# "how long" by a span of time or a length; the rest by any number.
_QUANTITY = {
    "often": re.compile(
        rf"\b(every|each|per|once|twice|daily|weekly|monthly|yearly|annually|times?)\b"
        rf"|\b{_COUNT}\s+times\b",
        re.IGNORECASE,
    ),
    "old": re.compile(
        rf"\b{_COUNT}[\s-]+years?[\s-]+old\b|\baged?\s+(of\s+)?\d|\bborn\b|\b(founded|built|"
        r"established|created|formed)\b.{0,40}\b\d{4}\b",
        re.IGNORECASE,
    ),
    "long": re.compile(
        rf"\b{_COUNT}\s+{_TIME_UNIT}\b|\b{_COUNT}\s+{_LENGTH_UNIT}\b|\d\s*{_LENGTH_UNIT}\b",
        re.IGNORECASE,
    ),
    "far": re.compile(rf"\b{_COUNT}\s+{_LENGTH_UNIT}\b|\d\s*{_LENGTH_UNIT}\b", re.IGNORECASE),
}
_QUANTITY["frequently"] = _QUANTITY["often"]


# Irregular past forms the stemmer leaves apart from the question's verb ("Who did he meet?" /
# "he met"): a sentence holding one also holds the base form, for matching the question's words.
_IRREGULAR_TEXT = (
    "met:meet said:say went:go gone:go held:hold took:take taken:take made:make gave:give "
    "given:give won:win began:begin begun:begin came:come found:find led:lead left:leave "
    "built:build became:become wrote:write written:write told:tell knew:know known:know saw:see "
    "seen:see thought:think brought:bring bought:buy fought:fight sold:sell sent:send "
    "spent:spend paid:pay lost:lose chose:choose chosen:choose fell:fall grew:grow grown:grow "
    "drew:draw drawn:draw ran:run rose:rise spoke:speak spoken:speak shot:shoot struck:strike "
    "flew:fly flown:fly kept:keep felt:feel meant:mean stood:stand taught:teach caught:catch "
    "ate:eat eaten:eat drove:drive driven:drive broke:break broken:break froze:freeze sang:sing "
    "swam:swim threw:throw thrown:throw wore:wear worn:wear hid:hide forbade:forbid sought:seek"
)
_IRREGULAR = dict(pair.split(":") for pair in _IRREGULAR_TEXT.split())
_IRREGULAR_WORD = re.compile(r"\b(" + "|".join(_IRREGULAR) + r")\b", re.IGNORECASE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FORM_WORDS = _words(
    """must shall ought happen happens happened happening mean means meant get gets got getting
    i me my mine myself you your yours yourself we us our ours m s re ve ll d"""
)
# Phrases that, like "happen", only say that an event occurred: "take place", "was held".
# ("Who held the record?" keeps "held": it is the phrase, not the word, that shapes the question.)
_EVENT_FRAME = re.compile(
    r"\b(?:take|takes|took|taken|taking)\s+place\b|\b(?:is|are|was|were|be|been|being)\s+held\b"
    r"|\bheld(?=\W*$)",  # "Where was the meeting held?"
    re.IGNORECASE,
)
DEGREE_WORDS = _words("often frequently much many long far old big large tall high wide deep heavy")
_HOW = re.compile(r"\bhow\s+(\w+)", re.IGNORECASE)


def form_words(question: str) -> frozenset[str]:
    """The question's words (lower-cased) that only shape it: "must", "my", "take place"."""
    frames = {w.lower() for m in _EVENT_FRAME.finditer(question) for w in m.group(0).split()}
    return frozenset(w.lower() for w in re.findall(r"\w+", question)) & FORM_WORDS | frames


def degree_words(question: str) -> frozenset[str]:
    """The degree words that follow "how" in the question: "often" in "how often"."""
    return frozenset(m.group(1).lower() for m in _HOW.finditer(question)) & DEGREE_WORDS


def asked_weights(weights: dict[str, float], question: str) -> dict[str, float]:
    """The question's word weights (``Corpus.weights``) as an answer must match them.

    Form words are dropped; the degree words become NUMBER_WORD (``#number:often``), weighing as
    much as the mean asked word (how rare "often" is in the documents says nothing about how rare
    its answers are).
    A question of nothing but form words keeps its weights as they were.
    """
    form = set(tokenize(" ".join(form_words(question))))
    asked = sorted(degree_words(question))
    degree = set(tokenize(" ".join(asked)))
    out = {t: w for t, w in weights.items() if t not in form and t not in degree}
    number = [weights[t] for t in degree if t in weights]
    if number:
        rest = list(out.values()) or number
        out[f"{NUMBER_WORD}:{asked[0]}"] = sum(rest) / len(rest)
    return out or weights


def yes_no(question: str) -> bool:
    """True when the question opens with an auxiliary verb ("Did Beijing provide evidence?"): its
    answer is yes or no, not a phrase of the text."""
    first = lower_words(question)[:1]
    return bool(first) and first[0] in AUXILIARIES


def how_to(question: str) -> bool:
    """True when the question asks what to do ("How do I renew ...?", "Can I ...?")."""
    opening = " ".join(lower_words(question)[:3])
    return any(opening == o or opening.startswith(f"{o} ") for o in HOW_TO_OPENINGS)


def sentence_answers(question: str) -> bool:
    """True when a sentence answers the question, not a phrase of it: yes or no ("Did ...?"), a
    reason ("Why ...?") or a step ("How do I ...?"). Measured by ``python eval/long_phrase.py``
    (token F1 of the marked phrase): better on the six domains' tune halves. The folds chose
    every "How ...?" too; but "How was Blinken described?" is answered by a quote, and the seed
    article (news) loses with it, so a manner stays a phrase."""
    return yes_no(question) or how_to(question) or lower_words(question)[:1] == ["why"]


def covered(weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of the asked words (``asked_weights``) that the text holds.

    A text holding an irregular past form ("met") holds its base form ("meet") too.
    """
    bases = " ".join(_IRREGULAR[m.group(1).lower()] for m in _IRREGULAR_WORD.finditer(text))
    words = set(tokenize(f"{text} {bases}" if bases else text))
    for key in weights:
        if key.startswith(NUMBER_WORD) and _QUANTITY.get(
            key[len(NUMBER_WORD) + 1 :], NUMBER
        ).search(text):
            words.add(key)
    return weighted_share(weights, words)
