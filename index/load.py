"""Find the files of a documents folder and turn each into text, or a reason it was skipped."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from index.types import Document, Skipped

log = logging.getLogger(__name__)

SUPPORTED = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx"}
MAX_UNZIPPED = 200_000_000  # a .docx that expands beyond this is treated as a zip bomb


@dataclass(frozen=True)
class FileEntry:
    """A candidate file: where it is, its path relative to the root, and a hash of its bytes."""

    path: Path
    source: str
    file_hash: str
    size: int


class LoadError(Exception):
    """A file could not be turned into text; the message is the one-line reason."""


@dataclass(frozen=True)
class Parsed:
    """What a parser read from a file: its text, a title if it names one, where pages begin."""

    text: str
    title: str = ""
    pages: tuple[int, ...] = ()


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def scan(
    roots: Iterable[Path], max_bytes: int = 50_000_000
) -> tuple[list[FileEntry], list[Skipped]]:
    """Walk the folders (or single files) and hash every supported file, skipping the rest."""
    entries: list[FileEntry] = []
    skipped: list[Skipped] = []
    for root in roots:
        root = Path(root)
        if root.is_file():
            base, files = root.parent, [root]
        elif root.is_dir():
            base, files = root, sorted(_walk(root))
        else:
            skipped.append(Skipped(str(root), "no such file or folder"))
            continue
        real_base = base.resolve()
        for path in files:
            source = path.relative_to(base).as_posix()
            if not _utf8_name(source):
                # Chunk ids, Chroma metadata and printed reports all need a UTF-8 name.
                shown = os.fsencode(source).decode("utf-8", "backslashreplace")
                skipped.append(Skipped(shown, "file name is not valid UTF-8; rename the file"))
                continue
            try:
                real = path.resolve()
                if path.is_symlink() and not real.is_relative_to(real_base):
                    skipped.append(Skipped(source, "symbolic link to outside the documents folder"))
                    continue
                if path.is_symlink() and real.is_dir():
                    skipped.append(Skipped(source, "symbolic link to a folder (not followed)"))
                    continue
                if path.suffix.lower() not in SUPPORTED:
                    skipped.append(
                        Skipped(source, f"unsupported file type '{path.suffix or '(none)'}'")
                    )
                    continue
                if not real.is_file():
                    skipped.append(Skipped(source, "not a regular file"))
                    continue
                size = real.stat().st_size
                if size == 0:
                    skipped.append(Skipped(source, "empty file"))
                    continue
                if size > max_bytes:
                    skipped.append(Skipped(source, f"too large ({size:,} bytes > {max_bytes:,})"))
                    continue
                entries.append(FileEntry(path, source, _hash_file(real), size))
            except OSError as exc:
                skipped.append(Skipped(source, f"cannot be read ({exc.strerror or exc})"))
            except RuntimeError:  # Path.resolve() on Python < 3.13 raises it for a link loop
                skipped.append(Skipped(source, "cannot be read (symbolic link loop)"))
    return entries, skipped


def _utf8_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes in the name became lone surrogates
        return False
    return True


def _walk(root: Path) -> Iterable[Path]:
    # Hidden files and folders (.git, .DS_Store, editor swap files) are never documents.
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith("."):
                yield Path(dirpath) / name
        # Linked folders are not followed, but are reported rather than silently ignored.
        yield from (Path(dirpath) / d for d in dirnames if os.path.islink(os.path.join(dirpath, d)))


def load(entry: FileEntry) -> Document | Skipped:
    """Read one file into a Document, or say why it cannot be indexed."""
    try:
        data = entry.path.read_bytes()
        parsed = _PARSERS[entry.path.suffix.lower()](data)
    except LoadError as exc:
        return Skipped(entry.source, str(exc))
    except MemoryError:
        return Skipped(entry.source, "too large to parse in memory")
    except Exception as exc:  # third-party parsers raise anything on bad files
        log.debug("parser failed on %s", entry.source, exc_info=True)
        return Skipped(entry.source, f"cannot be parsed ({type(exc).__name__}: {str(exc)[:120]})")
    text, pages = _clean(parsed.text, parsed.pages)
    if not text.strip():
        return Skipped(entry.source, "no text found")
    return Document(entry.source, text, entry.file_hash, parsed.title or _first_line(text), pages)


def _clean(text: str, pages: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    """Text without NULs or lone surrogates, page starts moved to match."""
    if "\x00" in text:
        # Each page start moves back by the NULs removed before it.
        pages = tuple(p - text.count("\x00", 0, p) for p in pages)
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a parser let lone surrogates through; the tokenizer refuses them
        text = text.encode("utf-8", "replace").decode("utf-8")  # one character each: offsets hold
    return text, pages


def _first_line(text: str) -> str:
    """The first line, when it is short enough to be a title rather than a paragraph."""
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= 120 else ""
    return ""


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


def _text(data: bytes) -> Parsed:
    return Parsed(decode_text(data))


def _html(data: bytes) -> Parsed:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.head:
        soup.head.decompose()
    lines = [ln.strip() for ln in soup.get_text("\n").splitlines()]
    return Parsed("\n".join(ln for ln in lines if ln), title)


def _pdf(data: bytes) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise LoadError("encrypted PDF (needs a password)")
            except LoadError:
                raise
            except Exception as exc:
                raise LoadError("encrypted PDF (cannot be decrypted)") from exc
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        meta = reader.metadata
        title = str(meta.title) if meta and meta.title else ""
    except PdfReadError as exc:
        raise LoadError(f"corrupt PDF ({str(exc)[:100]})") from exc
    text, starts = "", []
    for page in pages:  # an empty page still starts where the next text would
        starts.append(len(text) + (2 if text and page else 0))
        if page:
            text += ("\n\n" if text else "") + page
    return Parsed(text, title, tuple(starts))


def _docx(data: bytes) -> Parsed:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNZIPPED:
                raise LoadError("DOCX expands to more than 200 MB (zip bomb?)")
    except zipfile.BadZipFile as exc:
        raise LoadError("corrupt DOCX (not a zip archive)") from exc
    import docx

    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    title = doc.core_properties.title or ""
    return Parsed("\n".join(p for p in parts if p.strip()), title)


_PARSERS = {
    ".txt": _text,
    ".md": _text,
    ".markdown": _text,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
}
