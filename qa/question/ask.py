"""The ask: the sentence of a question that asks, apart from the context written before it.

People write "The CDC has issued a warning about a drug used on farm animals. What is ivermectin's
intended use?", or a quiz's "In a speech on Tuesday, the minister ... Which country did she
name?". Only the question sentence says what must be found; the sentences before it tell what
the question is about. Retrieval reads the whole text (the context's names help find the
passage); the answer's words are matched against the ask alone, so a passage is not judged by how
many of the preamble's words it repeats.

- A text of one sentence is all ask (a title's abbreviation, "Ms.", ends no sentence).
- Otherwise the ask is the last sentence that ends with "?" (what follows it, e.g. "Answer in one
  word.", is context too); without one, the last sentence when it opens like a question or a
  request ("Name the ...", "List ..."), else the whole text.

Courtesies are neither ask nor context: "Hi there, who is the spokesman? Thanks!" asks what "Who
is the spokesman?" asks (``without_courtesies``). Left in, "hi" and "thanks", rare in any
document, weighed as asked words no passage holds, and a plain question came out "not sure".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text import sentence_spans
from qa.question.word_lists import ABBREVIATIONS

# The words a question or a request opens with.
_OPENERS = (
    r"who|whom|whose|what|which|when|where|why|how|is|are|was|were|do|does|did|can|could|"
    r"will|would|should|has|have|had|name|list|give|tell|describe|explain|identify|define"
)
_OPENS_A_QUESTION = re.compile(rf"^\s*({_OPENERS})\b", re.IGNORECASE)


# A greeting that opens the text ("Hi there,", "Hello!", "Good afternoon.", "Hey what ..."): the
# greeting, then punctuation or a word that opens a question.
_GREETING = re.compile(
    r"^\s*(?:hi|hiya|hello|hey|greetings|good\s+(?:morning|afternoon|evening|day))"
    r"(?:\s+(?:there|all|everyone|team))?"
    rf"(?:\s*[,!.:;]+\s*|\s*[-\u2013\u2014]\s+|\s+(?=(?:{_OPENERS}|i|i'm|my|please)\b))",
    re.IGNORECASE,
)
# Thanks (or "please") that close the text after a sentence or a comma: "... ? Thanks!",
# "..., please."; never "How do I say thank you".
_THANKS = re.compile(
    r"(?<=[?.!,])\s*(?:many\s+|thanks\s+)?(?:thanks|thank\s+you|thx|cheers|please)"
    r"(?:\s+(?:so\s+much|very\s+much|a\s+lot|in\s+advance))?[\s.!]*$",
    re.IGNORECASE,
)


def without_courtesies(text: str) -> str:
    """The text without an opening greeting and closing thanks (itself when nothing else is
    left: a question that is only "Hello?" is asked as written)."""
    out = text
    while (m := _GREETING.match(out)) and m.end() < len(out):
        out = out[m.end() :]
    out = _THANKS.sub("", out).rstrip(" ,;")
    return out if out.strip() else text


@dataclass(frozen=True)
class Ask:
    """A question split into the sentence that asks and the context around it."""

    text: str  # the whole question as cleaned
    ask: str  # the asking sentence (the whole text when it is one sentence)
    context: str = ""  # the other sentences, in order ("" when there are none)

    @property
    def has_context(self) -> bool:
        return bool(self.context)


def split(text: str) -> Ask:
    """The asking sentence of ``text`` and its context (see the module docstring)."""
    text = without_courtesies(text)
    spans = _after_titles([(s, e) for s, e in sentence_spans(text) if text[s:e].strip()], text)
    if len(spans) < 2:
        return Ask(text, text)
    asking = [k for k, (s, e) in enumerate(spans) if text[s:e].rstrip().endswith("?")]
    if asking:
        k = asking[-1]
    elif _OPENS_A_QUESTION.match(text[spans[-1][0] : spans[-1][1]]):
        k = len(spans) - 1
    else:
        return Ask(text, text)
    s, e = spans[k]
    context = " ".join(text[a:b].strip() for j, (a, b) in enumerate(spans) if j != k)
    return Ask(text, text[s:e].strip(), context)


_LAST_WORD = re.compile(r"(\w+)\.$")


def _after_titles(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """The sentences with no break after a title's abbreviation: "... between VGrab Asia Ltd.
    and Mr. Gu Xianwin and Ms. Chen Weijie?" is one sentence, not a context ending "Ms." and an
    ask "Chen Weijie?"."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        last = _LAST_WORD.search(text[out[-1][0] : out[-1][1]]) if out else None
        if last and last.group(1).lower() in ABBREVIATIONS:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out
