"""Rich Text Format (.rtf: TextEdit's and WordPad's own format): the text, paragraph by paragraph.

RTF is text with control words in groups. The reader keeps what a word processor shows:
paragraphs (``\\par``), table rows as "cell | cell" lines, Unicode (``\\uN``) and code-page
characters (``\\'hh``), a field's result (not its instructions), footnotes after the text with
their numbers in superscript where they stand; it skips the font, colour and style tables,
pictures, headers and footers and every destination marked as optional (``\\*``). The title
is the one in ``{\\info{\\title ...}}``; pages are the explicit page breaks.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, replace

from index.formats.base import LoadError, Parsed, TextBuilder, note_mark
from index.text.controls import printable

_TOKEN = re.compile(
    r"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # a control word, its number, the space it eats
    r"|\\'([0-9a-fA-F]{2})"  # a byte in the document's code page
    r"|\\(.)"  # a control symbol: \\ \{ \} \~ \- \_ \* ...
    r"|([{}])"
    r"|[\r\n]+"
    r"|([^\\{}\r\n]+)",
    re.DOTALL,
)
# Destinations whose text is not the document's: tables of fonts, colours and styles, pictures,
# embedded objects, metadata (its title is read apart), running headers and footers, fields'
# instructions, list definitions, revision tables.
_SKIP = frozenset(
    [
        "fonttbl",
        "colortbl",
        "stylesheet",
        "info",
        "pict",
        "object",
        "objdata",
        "header",
        "headerl",
        "headerr",
        "headerf",
        "footer",
        "footerl",
        "footerr",
        "footerf",
        "fldinst",
        "listtable",
        "listoverridetable",
        "rsidtbl",
        "generator",
        "xmlnstbl",
        "themedata",
        "colorschememapping",
        "latentstyles",
        "datastore",
        "filetbl",
        "revtbl",
        "pgdsctbl",
        "bkmkstart",
        "bkmkend",
        "nonshppict",
        "comment",
        "annotation",
        "atnauthor",
        "atnid",
    ]
)


@dataclass(frozen=True)
class _Group:
    skip: bool = False
    uc: int = 1  # characters that stand in for a \uN character, to be skipped after it
    footnote: bool = False
    title: bool = False


class _Groups:
    """The open groups, innermost last. A group is its parent's state until a control word
    changes it, so levels that change nothing are a count: 40 MB of "{" is one entry, not 40
    million (which took 381 MB)."""

    def __init__(self) -> None:
        self._runs: list[list] = [[_Group(), 1]]  # [state, levels with it]

    @property
    def top(self) -> _Group:
        return self._runs[-1][0]

    def open(self) -> None:
        self._runs[-1][1] += 1

    def close(self) -> _Group | None:
        """Leave the innermost group: the state it had, or None at the outermost level."""
        run = self._runs[-1]
        if len(self._runs) == 1 and run[1] == 1:
            return None
        run[1] -= 1
        if not run[1]:
            self._runs.pop()
        return run[0]

    def set(self, group: _Group) -> None:
        """Change the innermost group's state (its parent's stays as it was)."""
        run = self._runs[-1]
        if run[1] == 1:
            run[0] = group
        else:
            run[1] -= 1
            self._runs.append([group, 1])


def read_rtf(data: bytes) -> Parsed:
    """An .rtf file: its paragraphs, table rows and footnotes; its title; explicit page breaks."""
    if not data.lstrip()[:5] == b"{\\rtf":
        raise LoadError("not an RTF file (it does not start with {\\rtf)")
    text = data.decode("latin-1")
    codec = "cp1252"
    out = TextBuilder()
    line: list[str] = []  # the paragraph being read
    row: list[str] = []  # the cells of a table row, read as one line
    note: list[str] = []
    notes: list[str] = []
    title: list[str] = []
    paged = bool(re.search(r"\\page(?![a-z])", text))
    if paged:
        out.page()
    stack = _Groups()
    skip_chars = 0  # the fallback characters after a \uN still to skip
    new_group = False  # the token before was "{": a destination name may follow

    def put(s: str) -> None:
        nonlocal skip_chars
        g = stack.top
        if skip_chars:
            cut = min(skip_chars, len(s))
            s, skip_chars = s[cut:], skip_chars - cut
        if not s or (g.skip and not g.title):
            return
        s = printable(s)  # \'00, \u7: control characters are no text
        (title if g.title else note if g.footnote else line).append(s)

    def end_paragraph() -> None:
        if stack.top.footnote:
            note.append(" ")
            return
        paragraph = " ".join("".join(line).split())
        line.clear()
        out.line(paragraph)

    for m in _TOKEN.finditer(text):
        word, number, hexbyte, symbol, brace, plain = m.groups()
        starts_group = new_group
        new_group = False
        if brace == "{":
            stack.open()
            new_group = True
        elif brace == "}":
            closing = stack.close()
            if closing is not None and closing.footnote and not stack.top.footnote:
                notes.append(" ".join("".join(note).split()))
                note.clear()
        elif plain is not None:
            put(plain)
        elif hexbyte is not None:
            put(bytes([int(hexbyte, 16)]).decode(codec, errors="replace"))
        elif symbol is not None:
            if symbol == "*":
                stack.set(replace(stack.top, skip=True))  # an optional destination
            elif symbol in "\\{}":
                put(symbol)
            elif symbol == "~":
                put(" ")
            elif symbol == "_":
                put("-")
            elif symbol in "\r\n":
                end_paragraph()
        elif word is not None:
            n = int(number) if number else None
            if word in _SKIP and starts_group:
                stack.set(replace(stack.top, skip=True))
            if word == "title" and starts_group:
                stack.set(replace(stack.top, title=True))
            elif word == "footnote" and starts_group:
                mark = note_mark(len(notes) + 1)
                line.append(mark)
                stack.set(replace(stack.top, footnote=True))
                note.append(f"{mark} ")
            elif word == "ansicpg" and n:
                codec = _codec(n, codec)
            elif word == "uc" and n is not None:
                stack.set(replace(stack.top, uc=max(0, n)))
            elif word == "u" and n is not None:
                code = n + 65536 if n < 0 else n
                put(chr(code) if 0 <= code < 0x110000 else "\ufffd")
                skip_chars = stack.top.uc
            elif word in ("par", "line", "sect"):
                end_paragraph()
            elif word == "page":
                end_paragraph()
                out.page()
            elif word == "tab":
                put(" ")
            elif word == "cell":
                row.append(" ".join("".join(line).split()))
                line.clear()
            elif word == "row":
                out.line(" | ".join(c for c in row if c))
                row.clear()
            elif word in ("emdash", "endash"):
                put("—" if word == "emdash" else "–")
            elif word in ("lquote", "rquote", "ldblquote", "rdblquote", "bullet"):
                put(
                    {"lquote": "‘", "rquote": "’", "ldblquote": "“", "rdblquote": "”"}.get(
                        word, "•"
                    )
                )
    end_paragraph()
    for n in notes:
        out.line(n)
    name = " ".join("".join(title).split())[:200]
    return Parsed(out.text(), name, out.page_starts() if paged else ())


def _codec(code_page: int, default: str) -> str:
    """Python's codec for a Windows code page, or ``default`` when Python has none."""
    try:
        return codecs.lookup(f"cp{code_page}").name
    except LookupError:
        return default
