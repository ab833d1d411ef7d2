"""Headings: lines that name what follows them, and the sentence under each.

A web page's title ("Benefits Planner: Retirement | Getting Benefits While Working | Social
Security Administration"), a section heading ("Getting Benefits While Working") or an FAQ's
question ("How Much Can I Earn And Still Get Benefits?") holds a question's words better than
any sentence and answers nothing: the sentence under it does ("You can work while you receive
Social Security retirement or survivors benefits."). ``lead_ins`` finds them among the candidate
sentences of ``extract.score_sentences``: a heading is never the answer, and the first sentence
under a section heading or a question reads that heading's words as its own (it is about them).
A document's title names the whole document, not its first sentence: it is no answer, and lends
its words to none. The heading's words choose the sentence; the decision's evidence
(``Draft.sentence``) stays what the quoted sentence holds itself, as the user reads it
(``eval/heading_gain.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from qa.types import Passage, Span

HEADING_WORDS = 16  # a heading is a short line; a longer one without a full stop is a sentence
_ENDS_SENTENCE = re.compile(r"[.!:;,…][\s\"'”’)\]]*$")  # a line that ends as sentences end
ASKS = re.compile(r"\?[\s\"'”’)]*$")  # a sentence that asks (an FAQ's heading)
_ROW = re.compile(r" \| .* \| ")  # a table row as the converters write it (three cells or more)


class LeadIns(NamedTuple):
    """Positions among the candidates: the headings, and each sentence under a section heading
    or a question with the heading's text."""

    headings: frozenset[int]
    under: dict[int, str]


NONE = LeadIns(frozenset(), {})


def _line_alone(p: Passage, span: Span) -> bool:
    """The span is a whole line of its passage, with text after it (a body to head)."""
    s, e = span.start - p.start, span.end - p.start
    before = p.text[:s].rstrip(" \t")
    after = p.text[e:].lstrip(" \t")
    starts = before.endswith("\n") or (not before and p.start == 0)
    return starts and after.startswith("\n") and bool(after.strip())


def _bare(p: Passage, span: Span) -> bool:
    """A short line of its own that ends as no sentence ends: a heading or a list's item."""
    text = span.text.strip()
    return (
        bool(text)
        and len(text.split()) <= HEADING_WORDS
        and _line_alone(p, span)
        and not _ENDS_SENTENCE.search(text)
        and not ASKS.search(text)
        and not _ROW.search(text)
    )


def _is_title(p: Passage, span: Span) -> bool:
    """The document's title on a line of its own; a first line that ends as a sentence ends is a
    sentence, whatever titles the document ("Loan-to-value (LTV): TORM defines ... vessels.")."""
    text = span.text.strip()
    return (
        bool(p.title)
        and text == p.title.strip()
        and not _ENDS_SENTENCE.search(text)
        and _line_alone(p, span)
    )


def _prose(span: Span) -> bool:
    """A line that ends as a sentence or a question ends: a body under a heading."""
    return bool(_ENDS_SENTENCE.search(span.text) or ASKS.search(span.text))


def lead_ins(cands: Sequence[tuple[Passage, Span]]) -> LeadIns:
    """The headings among the candidates (in passage order) and the sentences under them.

    A bare line is a heading when prose follows it and none of its like comes before it (the
    title aside): the lines "Helmets compulsory" and "Lights after dusk" are a list's items."""
    heads: set[int] = set()
    under: dict[int, str] = {}
    for i, (p, span) in enumerate(cands):
        nxt = cands[i + 1] if i + 1 < len(cands) and cands[i + 1][0].id == p.id else None
        prev = cands[i - 1] if i > 0 and cands[i - 1][0].id == p.id else None
        title = _is_title(p, span)
        after = nxt is not None and _prose(nxt[1])
        item = prev is not None and _bare(*prev) and not _is_title(*prev)
        heading = _bare(p, span) and after and not item and not title
        asks = bool(ASKS.search(span.text)) and _line_alone(p, span) and after
        if title or heading or asks:
            heads.add(i)
        if heading or asks:  # a title names the whole document, not its first sentence
            under[i + 1] = span.text
    return LeadIns(frozenset(heads), under)
