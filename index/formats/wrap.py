"""Hard-wrapped plain text read as paragraphs: a wrapped line's break becomes the space it stands for.

A licence, an RFC, a README kept to 72 or 100 columns, an e-mail: their prose is broken into
lines where the editor wrapped it, and a line break otherwise ends a sentence (a title, a list
item, a table row), so every wrapped sentence was cut in two at each line end. ``unwrap``
replaces just the breaks that are wraps with spaces; the text keeps its length, so every
character stays at its offset (citations point where they would in the file as written).

A text is hard-wrapped when its prose lines stop at one width (the 90th percentile of their
lengths, between ``MIN_WRAP`` and ``MAX_WRAP``; a text with longer lines writes a paragraph per
line and is left as it is). A break there is a wrap when the next line's first word would not
have fit at the end of the line (the test PDF pages get by geometry), or when a line near that
width leaves its sentence to go on in lower case (a text wrapped by hand stops a little short
here and there). A title, a short last line, a list item, a heading, a table row, a quote, a
line set in columns, a line indented deeper than the one before (code) and anything inside a
fenced code block stay lines of their own.
"""

from __future__ import annotations

import re

MAX_WRAP = 120
MIN_WRAP = 30
SAMPLE_LINES = 20_000  # the width is read from the first prose lines (a huge text: no list of all)
SHORT_OF_WIDTH = 0.6  # how long a line wrapped short must still be, as a share of the width
# A line that stands on its own: a list item, a heading or its underline, a rule, a table row,
# a quote, a fence.
_ITEM = r"[-*+•◦▪‣●○■]\s|\(?\d{1,3}[.)]\s|\(?[a-zA-Z][.)]\s"
_OWN_LINE = re.compile(rf"^\s*({_ITEM}|#|\||>|```|~~~|[=\-_*]{{3,}}\s*$)")
_LIST_ITEM = re.compile(rf"^\s*({_ITEM})")
# Columns: cells set apart by a tab, a run of spaces or a bar ("Revenue | 1,043 | 749").
_TABULAR = re.compile(r"\S(\t| {3,})\S|\s\|\s")
_LINE = re.compile(r"[^\n]+")
_FENCE = ("```", "~~~")


def unwrap(text: str) -> str:
    """``text`` with the line breaks of its hard-wrapped paragraphs replaced by spaces."""
    width = wrap_width(text)
    if width is None:
        return text
    out = _Spliced(text)
    previous: re.Match | None = None
    fenced = False
    code: int | None = None  # the indent of the indented code block we are in
    for m in _LINE.finditer(text):
        line = m.group(0)
        fence = line.lstrip().startswith(_FENCE)
        indent = len(line) - len(line.lstrip())
        if code is not None and line.strip() and indent < code:
            code = None
        if previous is not None and code is None and _code_after(previous.group(0), line):
            code = indent
        if (
            previous is not None
            and not fenced
            and not fence
            and code is None
            and m.start() == previous.end() + 1  # no blank line between
            and wraps(previous.group(0), line, width)
        ):
            out.space_at(previous.end())
        if fence:
            fenced = not fenced
        previous = m
    return out.text()


class _Spliced:
    """A text with single characters replaced by spaces, built a block at a time: a 40 MB file
    of wrapped lines costs about two copies of its text, not a string per line."""

    BLOCK = 1 << 20

    def __init__(self, text: str):
        self.source = text
        self.blocks: list[str] = []
        self.pieces: list[str] = []
        self.at = 0  # the source is copied up to here
        self.block_start = 0

    def space_at(self, i: int) -> None:
        self.pieces.append(self.source[self.at : i])
        self.at = i + 1
        if self.at - self.block_start >= self.BLOCK:
            self.blocks.append(" ".join(self.pieces) + " ")
            self.pieces, self.block_start = [], self.at

    def text(self) -> str:
        if not self.blocks and not self.pieces:
            return self.source
        self.pieces.append(self.source[self.at :])
        self.blocks.append(" ".join(self.pieces))
        return "".join(self.blocks)


def wrap_width(text: str) -> int | None:
    """Where the prose lines stop (tables, list items and headings left out), or None when
    that is no hard wrap."""
    lengths = []
    for m in _LINE.finditer(text):
        line = m.group(0)
        if line.strip() and not _OWN_LINE.match(line) and not _TABULAR.search(line.strip()):
            lengths.append(len(line.rstrip()))
            if len(lengths) >= SAMPLE_LINES:
                break
    if len(lengths) < 4:
        return None
    lengths.sort()
    width = lengths[int(0.9 * (len(lengths) - 1))]
    return width if MIN_WRAP <= width <= MAX_WRAP else None


def _code_after(last: str, line: str) -> bool:
    """Does ``line`` start a code block after ``last``: indented 4 deeper, and neither a list
    item nor the continuation a list item hangs?"""
    if not last.strip() or not line.strip() or _LIST_ITEM.match(line):
        return False
    indent, last_indent = len(line) - len(line.lstrip()), len(last) - len(last.lstrip())
    return indent >= last_indent + 4 and not _LIST_ITEM.match(last)


def wraps(last: str, line: str, width: int) -> bool:
    """Did the line ``last`` wrap into ``line`` (the two lines as written, one after the other;
    ``unwrap`` has already kept code, and the line a code block starts with, out of this)?"""
    last = last.rstrip()
    words = line.split()
    if not words or not last.strip() or _OWN_LINE.match(line):
        return False
    if _TABULAR.search(last.strip()) or _TABULAR.search(line.strip()):
        return False
    if len(last) + 1 + len(words[0]) > width:
        return True  # the next word would not have fit
    return (
        len(last) >= SHORT_OF_WIDTH * width and words[0][:1].islower() and last[-1] not in ".!?:;"
    )
