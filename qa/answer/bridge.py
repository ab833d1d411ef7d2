"""The second hop of a two-hop question: the sentence of the document the best sentence leads to.

"When was the British author who wrote the novel on which *Here We Go Round the Mulberry Bush*
was based born?" The best-scoring sentence holds most of the question's words ("Here We Go Round
the Mulberry Bush is a 1967 British film made based on the novel of the same name by Hunter
Davies") but not what is asked: the author's birth is in the document that passage names
("Hunter Davies (born 7 January 1936) is a British author ..."). Quoting the first sentence
answers "1967".

So when the best sentence's passage names another retrieved document by its title, as a name
(capitalised as the title writes it, no part of a longer number: ``index.text.names_title``),
that the question itself does not name, and a sentence of that document holds asked words the best sentence lacks, that sentence
leads; the best sentence stays next to it, and is quoted second when it adds asked words
(``extract.choose``), so the user sees the chain. A choice ("Which tower is taller, A or B?")
takes no hop: one of its options answers it, not a third document. Nothing is fitted: the rule
reads titles and words only (``eval/bridge_gain.py`` measures it on every domain).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol, TypeVar

from index.text import names_title
from qa.question.asked import covered, options
from qa.types import Passage, Span


class Scored(Protocol):
    """A scored sentence (``extract.ScoredSentence``): where it is, and how well it answers."""

    @property
    def passage(self) -> Passage: ...
    @property
    def span(self) -> Span: ...
    @property
    def score(self) -> float: ...


S = TypeVar("S", bound=Scored)


def lead(question: str, scored: list[S], weights: dict[str, float]) -> list[S]:
    """``scored`` (best first) with the second hop's sentence first, level with the best one,
    when there is one; else unchanged."""
    if len(scored) < 2 or options(question) is not None:
        return scored  # a choice is answered by one of its options, not by a third document
    best = scored[0]
    missing = {w: v for w, v in weights.items() if not covered({w: v}, best.span.text)}
    if not missing:
        return scored
    here = best.passage
    passages = {s.passage.id: s.passage for s in scored[1:]}.values()
    named = {
        p.id
        for p in passages
        if p.title
        and p.source != here.source
        and p.title != here.title
        and not names_title(question, p.title, any_case=True)
        and names_title(here.text, p.title)
    }
    hop = next(
        (s for s in scored[1:] if s.passage.id in named and covered(missing, s.span.text) > 0), None
    )
    if hop is None:
        return scored
    return [replace(hop, score=best.score), *(s for s in scored if s is not hop)]
