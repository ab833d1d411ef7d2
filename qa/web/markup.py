"""Text from documents made safe HTML, and marked: the one escaping every page fragment uses.

``esc`` escapes markup and turns every kind of line break (``\\n``, ``\\r``, ``\\r\\n``,
vertical tab, form feed, NEL, U+2028/9) into ``<br>`` and drops other control characters, so a
fragment never holds a line ending. A fragment that starts with a block tag and has no line
ending is one raw HTML block to any CommonMark/Markdown pass, which then leaves it alone: text
like ``\\r\\r![x](http://…)`` can never become an image or a link, wherever the fragment is shown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from itertools import pairwise

from index.text import control_chars
from qa.types import Span

# Every character a Markdown parser (or a browser) may take as a line break.
_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")
# Other C0/C1 controls (tab is kept as a space) and the bidi overrides that reorder shown text:
# the one set, applied after every line break above has become a line feed.
_CONTROLS = control_chars()


def clean(text: str) -> str:
    """Plain text without control characters; line breaks become ``\\n``, tabs spaces."""
    return _CONTROLS.sub("", _BREAKS.sub("\n", text)).replace("\t", " ")


def esc(text: str) -> str:
    """Text as HTML: escaped, line breaks as ``<br>``, no control characters, no newline."""
    return html.escape(clean(text), quote=True).replace("\n", "<br>")


def esc_line(text: str) -> str:
    """Text as HTML on one line (a title, a file name): breaks become spaces."""
    return html.escape(" ".join(clean(text).split()), quote=True)


def shorten(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters, with an ellipsis when cut."""
    line = " ".join(clean(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def locate(text: str, base: int, spans: Sequence[Span]) -> list[tuple[int, int]]:
    """Where spans (in document offsets) lie in ``text`` (which starts at offset ``base``).

    A span whose offsets do not match (another coordinate system, an edited document) is found
    by its text instead; ranges come back merged and in order.
    """
    ranges = []
    for s in spans:
        a, b = s.start - base, s.end - base
        if 0 <= a < b <= len(text) and text[a:b] == s.text:
            ranges.append((a, b))
        elif s.text and (i := text.find(s.text)) >= 0:
            ranges.append((i, i + len(s.text)))
    merged: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def marked(text: str, layers: Sequence[tuple[Sequence[tuple[int, int]], str]]) -> str:
    """Escaped text with ranges wrapped in ``<mark class=...>``, inner layers nested in outer.

    ``layers`` is [(ranges, css class), ...], outermost first (e.g. sentences, then phrases).
    """
    cuts = {0, len(text)}
    for ranges, _ in layers:
        cuts.update(x for a, b in ranges if 0 <= a < b <= len(text) for x in (a, b))
    bounds = sorted(cuts)
    out: list[str] = []
    stack: list[str] = []  # the classes of the marks open now, outermost first
    for a, b in pairwise(bounds):
        want = [cls for ranges, cls in layers if any(x <= a and b <= y for x, y in ranges)]
        keep = 0
        while keep < min(len(stack), len(want)) and stack[keep] == want[keep]:
            keep += 1
        out.append("</mark>" * (len(stack) - keep))
        out.extend(f'<mark class="{cls}">' for cls in want[keep:])
        stack = want
        out.append(esc(text[a:b]))
    out.append("</mark>" * len(stack))
    return "".join(out)


ICONS = {
    "up": '<path d="M7 10v11H3V10h4zm2 11h8.3a2 2 0 0 0 2-1.6l1.5-7A2 2 0 0 0 18.8 10H14l.9-4.4'
    'A1.7 1.7 0 0 0 13.2 4L9 9.4V21z"/>',
    "down": '<path d="M17 14V3h4v11h-4zm-2-11H6.7a2 2 0 0 0-2 1.6l-1.5 7A2 2 0 0 0 5.2 14H10l-.9 '
    '4.4a1.7 1.7 0 0 0 1.7 2L15 14.6V3z"/>',
    "close": '<path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2" '
    'stroke-linecap="round" fill="none"/>',
    "trash": '<path d="M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9z"/>',
    "plus": '<path d="M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z"/>',
}


def icon(name: str) -> str:
    """A small inline SVG icon (decorative: the control around it carries the label)."""
    return (
        '<svg class="qa-icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" '
        f'focusable="false" fill="currentColor">{ICONS[name]}</svg>'
    )
