"""Questions to try, drawn from a document without a model, each checked to be answered by it.

The names a document keeps coming back to (capitalised runs of words not at a sentence's start:
"Wang Yi", "Munich Security Conference", "Lumen Barista Pro") become questions: "What did Wang
Yi say?" for a name the text has saying something, else "Who is ...?" or "What is ...?". Each
is asked of that document alone with the extractive answer; only those it answers are offered:
with confidence, or "not sure" with the closest answer first (where the calibrated boundary
between the two lies moves with each recalibration; a question the document answers is worth
trying either way). A refusal, or "not sure" for another reason (a question read as in another
language), is not offered.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from index.text import common_rank
from qa.outcomes import ANSWERED, CONFIDENT, NOT_CONFIDENT, SETTLED, UNCERTAIN
from qa.types import Answer

MAX_CHARS = 20_000  # the opening of the document the names are looked for in
TRIED = 8  # questions asked of the document at most
COMMON_RANK = 8000  # a word this common in the vocabulary is no name when it opens a sentence
_NAME = re.compile(r"\b([A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+){1,4})\b")
_OPENS = re.compile(r"(?:^|\n|[.!?:][\"'”’)]?\s)\s*$")
_SAYS = r"\s*(?:,[^,.]{0,60},\s*)?(?:said|says|told|warned|called|described)\b"
_TITLES_TEXT = (
    "Secretary State President Minister Foreign Prime Vice General Director Chief Senator "
    "Governor Ambassador Spokesman Spokeswoman Mr Mrs Ms Dr Professor King Queen Chairman "
    "Premier Chancellor Mayor Judge Captain Top"
)
_TITLES = frozenset(_TITLES_TEXT.split())
_GROUPS_TEXT = (
    "Department Ministry Conference Council University Agency Company Committee Office Bank "
    "Court Party Union Organization Association Institute School Times News Post States "
    "Kingdom Republic Nations Carolina City County River Sea Ocean Street"
)
_GROUPS = frozenset(_GROUPS_TEXT.split())
_NOT_NAMES_TEXT = (
    "The This That These Those A An In On At For From With And But Or If When Where While After "
    "Before During Since Because However Although Monday Tuesday Wednesday Thursday Friday "
    "Saturday Sunday January February March April May June July August September October "
    "November December"
)
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())
# Sentences of a manual or a policy: "The X must be descaled every 6 weeks", "The X lasts ...".
_HOW_OFTEN = re.compile(
    r"\b(?:The|the) ([\w -]{3,60}?) (must|should|is|are|has to) (?:be )?(\w+ed) every\b"
)
_HOW_LONG = re.compile(
    r"\b(?:The|the) ([\w -]{3,60}?) (lasts|runs for|takes) (?:about |up to )?"
    r"(?:\d|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
)


def _names(text: str) -> Counter[str]:
    """Capitalised runs of words, titles ("Secretary of State") and sentence openers cut off."""
    counts: Counter[str] = Counter()
    for m in _NAME.finditer(text):
        words = m.group(1).split()
        opens = m.start() == 0 or _OPENS.search(text[max(0, m.start() - 3) : m.start()])
        if opens and common_rank(words[0].lower()) < COMMON_RANK:
            words = words[1:]  # a common word capitalised as a sentence's first ("Ask Dana ...")
        while words and (words[0] in _NOT_NAMES or words[0] in _TITLES or words[0] == "of"):
            words = words[1:]
        if len(words) >= 2 and not any(w in _NOT_NAMES for w in words):
            counts[" ".join(words)] += 1
    return counts


def candidate_questions(text: str) -> list[str]:
    """Questions the text looks able to answer: how often / how long a thing is done or lasts,
    what a person said, who a person is, what a named thing is; most mentioned names first."""
    text = text[:MAX_CHARS]
    out = [f"How often {m.group(2)} the {m.group(1)} be {m.group(3)}?"
           for m in _HOW_OFTEN.finditer(text)]  # fmt: skip
    verbs = {"lasts": "last", "runs for": "run for", "takes": "take"}
    out += [
        f"How long does the {m.group(1)} {verbs[m.group(2)]}?" for m in _HOW_LONG.finditer(text)
    ]
    for name, _ in _names(text).most_common(TRIED):
        last = name.split()[-1]
        if re.search(re.escape(name) + _SAYS, text):
            out.append(f"What did {name} say?")
        elif last in _GROUPS:
            continue  # an organisation or a place: rarely a question a reader starts with
        elif re.search(r"\b[Tt]he " + re.escape(name), text) or len(name.split()) > 3:
            out.append(f"What is the {name}?")  # "the Barista Pro": a thing
        else:
            out.append(f"Who is {name}?")
    return list(dict.fromkeys(out))


def suggest(
    text: str, source: str, ask: Callable[[str, list[str]], Answer], n: int = 2
) -> tuple[str, ...]:
    """Up to ``n`` questions about the document that ``ask`` (extractive, of that document
    alone) answers, sure or not sure, each from a different sentence."""
    out: list[str] = []
    seen: set[tuple[int, int]] = set()
    for q in candidate_questions(text)[:TRIED]:
        try:
            answer = ask(q, [source])
        except Exception:  # a question that cannot be asked is simply not offered
            continue
        spans = {(s.start, s.end) for c in answer.citations for s in c.sentences}
        if answers(answer) and spans and not spans & seen:
            out.append(q)
            seen |= spans
        if len(out) >= n:
            break
    return tuple(out)


def answers(answer: Answer) -> bool:
    """The document gives the answer: confidently, or as the closest answer when not sure of
    it (only because the evidence is not strong enough), with the passages it quotes."""
    given = (answer.status, answer.reason) in (
        (ANSWERED, CONFIDENT), (ANSWERED, SETTLED), (UNCERTAIN, NOT_CONFIDENT)
    )  # fmt: skip
    return given and bool(answer.citations)


def opening(text: str, title: str = "", limit: int = 180) -> str:
    """How the document begins, past its title: a line to recognise it by on the start screen."""
    for line in text[:MAX_CHARS].splitlines():
        line = " ".join(line.split())
        if len(line.split()) >= 5 and line != title.strip():
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""
