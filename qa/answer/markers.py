"""Citation markers ``[n]``: the one pattern, stripping, and the rewrite of a model's markers.

A model's markers are checked as they stream: numbers that name no given passage are removed,
the rest renumbered in order of first use, so the streamed text is the final text.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

# "[1]", "[2, 3]", "[4; 5]" with any spaces; group 1 is the whitespace before, group 2 the numbers.
MARKER = re.compile(r"(\s*)\[\s*(\d{1,4}(?:\s*[,;]\s*\d{1,4})*)\s*\]")
_OPEN_MARKER = re.compile(r"\[[\d\s,;]*$")


def marker_numbers(match: re.Match) -> list[int]:
    """The passage numbers named by one MARKER match, in order."""
    return [int(n) for n in re.findall(r"\d+", match.group(2))]


def strip_markers(text: str) -> str:
    """The text without its citation markers, runs of whitespace squashed to one space."""
    return " ".join(MARKER.sub(" ", text).split())


def rewrite_markers(text: str, n_given: int) -> tuple[str, list[int]]:
    """Drop ``[n]`` markers that name no given passage, renumber the rest by first use.

    Returns the new text and the original passage numbers in their new order (new ``[i]`` is
    original ``order[i-1]``). Prefix-stable, so it can run on a growing stream.
    """
    order: list[int] = []

    def sub(m: re.Match) -> str:
        numbers = marker_numbers(m)
        new = []
        for n in numbers:
            if 1 <= n <= n_given:
                if n not in order:
                    order.append(n)
                i = order.index(n) + 1
                if i not in new:
                    new.append(i)
        return m.group(1) + "".join(f"[{i}]" for i in new) if new else ""

    return MARKER.sub(sub, text).lstrip(), order


class CitationStream:
    """Rewrites markers in a streamed reply; holds back only what a later piece could change."""

    def __init__(self, n_given: int):
        self.n_given = n_given
        self.raw = ""
        self.emitted = ""

    def feed(self, piece: str) -> str:
        """The new text that is safe to show after ``piece`` arrived."""
        self.raw += piece
        head = self.raw
        tail = _OPEN_MARKER.search(head)
        if tail:
            head = head[: tail.start()]
        return self._emit(rewrite_markers(head.rstrip(), self.n_given)[0])

    def finish(self) -> str:
        """The rest of the text once the reply is complete."""
        return self._emit(self.text)

    @property
    def text(self) -> str:
        """The whole rewritten reply so far."""
        return rewrite_markers(self.raw, self.n_given)[0].rstrip()

    @property
    def order(self) -> list[int]:
        """Original passage numbers in the order of their new numbers."""
        return rewrite_markers(self.raw, self.n_given)[1]

    def _emit(self, text: str) -> str:
        if not text.startswith(self.emitted):  # cannot happen for prefix-stable rewrites
            log.debug("citation rewrite not prefix-stable; holding the rest back")
            return ""
        new = text[len(self.emitted) :]
        self.emitted = text
        return new
