"""What every format reader shares: the Parsed record, LoadError, limits and text decoding."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.config import MAX_FILE_BYTES

# No document yields more text than the largest file accepted (by default) holds bytes: a 50 MB
# file of text, or a small file that expands (a spreadsheet's repeated headers, a
# flate-compressed PDF) is skipped past this instead of filling memory.
MAX_TEXT_CHARS = MAX_FILE_BYTES
# An archive-based file (.docx .pptx .xlsx .epub) that expands beyond this is a zip bomb.
MAX_UNZIPPED = 200_000_000
OCR_EXTRA = "pip install 'qa-chat[ocr]'"
# Pages (a scanned PDF's, a multi-page TIFF's frames) read by OCR in one file, at most: ~2 s and
# ~1 GB each. The product's setting is QA_OCR_MAX_PAGES; counted before any page is read.
OCR_PAGES = 100
# Errors whose message is about the code, not the file: never shown as a reason.
_CODE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, NameError, AssertionError)
_OBJECT = re.compile(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>")


class LoadError(Exception):
    """A file could not be turned into text; the message is the one-line reason."""


def said(exc: BaseException, limit: int = 100) -> str:
    """What a parser's error says of a file, when it says it in a few whole words: its first
    line without object addresses; "" for a long message (never cut mid-word) or an error about
    the code rather than the file (an AttributeError names no fault a person can fix)."""
    if isinstance(exc, _CODE_ERRORS):
        return ""
    lines = str(exc).strip().splitlines()
    text = _OBJECT.sub("", lines[0]).strip().rstrip(".:;,") if lines else ""
    return text if len(text) <= limit and text.count("(") == text.count(")") else ""


def with_detail(reason: str, exc: BaseException) -> str:
    """``reason``, with what the parser said in brackets when it said something useful."""
    detail = said(exc)
    return f"{reason} ({detail})" if detail else reason


@dataclass(frozen=True)
class Parsed:
    """What a reader got from a file: text, a title if it names one, where pages begin.

    ``title_from_text``: when the file names no title, may the first short line stand in for
    one (not for a spreadsheet, whose first line is a sheet name or a header row).
    ``notes``: what was left out and why (a scanned page without OCR), one line each.
    """

    text: str
    title: str = ""
    pages: tuple[int, ...] = ()
    title_from_text: bool = True
    notes: tuple[str, ...] = ()


# A footnote's number, a raised mark or an exponent in its superscript form ("1872¹²", "m²").
SUPERSCRIPT = str.maketrans(
    "0123456789+-=()abcdefghijklmnoprstuvwxyzABDEGHIJKLMNOPRTUVW",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᴬᴮᴰᴱᴳᴴᴵᴶᴷᴸᴹᴺᴼᴾᴿᵀᵁⱽᵂ",
)


def note_mark(number: int) -> str:
    """A note's number as it marks the text: superscript digits."""
    return str(number).translate(SUPERSCRIPT)


class TextBuilder:
    """Collects text line by line under the MAX_TEXT_CHARS budget, recording page starts."""

    def __init__(self, limit: int = MAX_TEXT_CHARS):
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.pages: list[int] = []
        self._pending = 0  # pages begun whose first text has not come yet

    def add(self, text: str) -> None:
        """Append raw text, or raise LoadError when the document grows past the budget."""
        self.size += len(text)
        if self.size > self.limit:
            raise LoadError(f"too much text (more than {self.limit:,} characters)")
        self.parts.append(text)

    def line(self, text: str, sep: str = "\n") -> None:
        """Append a line (or paragraph), separated from what came before by ``sep``."""
        if not text:
            return
        if self.size:
            self.add(sep)
        self.pages += [self.size] * self._pending
        self._pending = 0
        self.add(text)

    def page(self) -> None:
        """Mark that the next line begins a new page (an empty page starts where text would)."""
        self._pending += 1

    def page_starts(self) -> tuple[int, ...]:
        """Where each page begins; pages after the last text start at its end."""
        return (*self.pages, *([self.size] * self._pending))

    def text(self) -> str:
        """Everything added so far, as one string."""
        return "".join(self.parts)


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM), else Windows-1252; refuse binary data."""
    head = data[:8192]
    if b"\x00" in head and not (head.startswith((b"\xff\xfe", b"\xfe\xff"))):
        raise LoadError("binary file (not text)")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise LoadError("undecodable UTF-16 text") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Legacy 8-bit text; too many control characters means it is not text at all.
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\r\n\t\f")
    if controls > len(text[:8192]) * 0.05:
        raise LoadError("binary or undecodable file (not UTF-8 or Windows-1252 text)")
    return text
