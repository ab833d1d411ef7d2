"""Control characters: the one set that text shown, printed or stored by the product is rid of.

``CONTROLS`` holds every character that can make text display, print or parse otherwise than it
reads:

- the C0 controls but tab and line feed (a NUL; a bell; backspace and carriage return, which
  rewrite what a terminal shows; vertical tab and form feed, line breaks to some readers only),
- DEL and the C1 controls (U+0080-U+009F: 8-bit escape introducers, NEL),
- the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make
  text display in another order than it reads.

``control_chars`` compiles it with the variants a caller needs, as parameters:

- ``keep``: the C0 characters left alone, tab and line feed unless said otherwise. A file name
  keeps neither. The web page keeps both and has already turned every other line break
  (CR, VT, FF, NEL, U+2028/9) into a line feed, so the set is the one it always removed.
- ``c0=False``: C0 left out altogether (JSON escapes those itself).
- ``bidi=False``: for a file name, whose odd characters (bidi controls too) become ``_`` anyway.
- ``invisible=True``: the zero-width spaces and marks (U+200B-U+200F) and lone surrogates too,
  which a question sent as JSON can carry and the tokenizer and Chroma refuse.

``printable`` is another definition, on purpose: a document reader keeps what Python calls
printable and turns the rest into spaces, so that words stay apart. That also replaces no-break
and other odd spaces, soft hyphens and private-use characters, and what it yields is indexed:
changing it would move every chunk's offsets and change answers, so it stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_C0 = range(0x00, 0x20)
_DEL_C1 = range(0x7F, 0xA0)
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_INVISIBLE = (*range(0x200B, 0x2010), *range(0xD800, 0xE000))
CONTROLS = "".join(chr(c) for c in (*_C0, *_DEL_C1, *_BIDI) if chr(c) not in "\t\n")


def control_chars(
    *, keep: str = "\t\n", c0: bool = True, bidi: bool = True, invisible: bool = False
) -> re.Pattern[str]:
    """A pattern that matches one control character (``CONTROLS``, with the variants above)."""
    codes = [c for c in _C0 if chr(c) not in keep] if c0 else []
    codes += [*_DEL_C1, *(_BIDI if bidi else ()), *(_INVISIBLE if invisible else ())]
    return re.compile(f"[{_ranges(sorted(codes))}]")


def _ranges(codes: Iterable[int]) -> str:
    """A character class body for sorted code points: runs written as ``\\uXXXX-\\uYYYY``."""
    out: list[str] = []
    run: list[int] = []
    for c in [*codes, -2]:
        if run and c != run[-1] + 1:
            a, b = run[0], run[-1]
            out.append(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}")
            run = []
        run.append(c)
    return "".join(out)


def printable(text: str) -> str:
    """Text without what Python does not call printable (a NUL in a broken file): each such
    character becomes a space; tabs stay."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == "\t" else " " for ch in text)
