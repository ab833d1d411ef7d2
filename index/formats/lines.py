"""Text placed on a page: the lines a PDF's text layer or OCR yields, and the pages they fill."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """A run of text on one line of a page; y grows upwards (PDF space), size is its height."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    size: float
    first_word: float = 0.0  # width of its first word (0: estimate from the text)
    table: bool = False  # a table's row, its cells joined by " | ": a paragraph of its own

    def first_word_width(self) -> float:
        """How wide the line's first word is, measured or estimated from the text."""
        if self.first_word:
            return self.first_word
        word = self.text.split(" ", 1)[0]
        return (self.x1 - self.x0) * len(word) / max(1, len(self.text))


@dataclass(frozen=True)
class Page:
    """The lines found on one page and the page's size."""

    width: float
    height: float
    lines: tuple[Line, ...]


def same_row(a: Line, b: Line) -> bool:
    """Do the two runs sit on one line of the page (their heights overlap by half)?"""
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    return overlap > 0.5 * min(a.y1 - a.y0, b.y1 - b.y0)
