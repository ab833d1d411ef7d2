"""The start screen of an empty chat: what the documents are, with questions each one answers.

The questions come from ``qa.web.suggest`` (drawn from each document and checked to be answered
by it, no model needed); a click asks one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.types import place_words
from qa.web.markup import esc_line, shorten

SHOWN = 6  # documents on the start screen; the documents panel lists them all
PER_DOC = 3  # questions shown for each


@dataclass(frozen=True)
class StartDoc:
    """A document on the start screen: its name, size and questions to try."""

    source: str
    title: str = ""
    pages: int | None = None
    questions: tuple[str, ...] = ()
    opening: str = ""  # how it begins, past its title


def _chips(questions: Sequence[str]) -> str:
    chips = "".join(
        f'<li><button type="button" class="qa-example">{esc_line(q)}</button></li>'
        for q in questions
    )
    return f'<ul class="qa-examples">{chips}</ul>' if chips else ""


def _doc(d: StartDoc) -> str:
    name = d.title if d.title and d.title != d.source else d.source
    meta = [] if name == d.source else [d.source]
    if d.pages:
        unit = place_words(d.source, "1").split()[0]  # "page", or "slide" for a .pptx
        meta.append(f"{d.pages:,} {unit}{'s' * (d.pages != 1)}")
    sub = f'<p class="qa-start-meta">{esc_line(" · ".join(meta))}</p>' if meta else ""
    if d.opening:
        sub += f'<p class="qa-start-opening">{esc_line(d.opening)}</p>'
    return (
        f'<li class="qa-start-doc"><h3 class="qa-start-title" title="{esc_line(name)}">'
        f"{esc_line(shorten(name, 90))}</h3>{sub}{_chips(d.questions[:PER_DOC])}</li>"
    )


def render_start(docs: Sequence[StartDoc], examples: Sequence[str] = ()) -> str:
    """The welcome: a line on how answers work, then the documents with their questions."""
    intro = (
        "<h2>Ask your documents</h2><p>Each answer comes with the sentences it rests on. Click a "
        '<span class="qa-ref-sample">[1]</span> to read the passage in its document.</p>'
    )
    if not docs:
        tries = (
            f'<p class="qa-try">Try one:</p>{_chips(examples)}'
            if examples
            else '<p class="qa-try-none">Add a document in the documents panel to begin.</p>'
        )
        return f'<div class="qa-welcome">{intro}{tries}</div>'
    shown = docs[:SHOWN]
    more = len(docs) - len(shown)
    rest = (
        f'<p class="qa-start-more">…and {more:,} more in the documents panel.</p>' if more else ""
    )
    items = "".join(_doc(d) for d in shown)
    return (
        f'<div class="qa-welcome">{intro}<h3 class="qa-try">Your documents, with questions '
        f'they answer</h3><ul class="qa-start-docs">{items}</ul>{rest}</div>'
    )
