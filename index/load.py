"""Find the files of a documents folder and turn each into text, or a reason it was skipped."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from index.config import MAX_FILE_BYTES
from index.formats import CONVERT, READERS, read
from index.formats.base import (
    MAX_UNZIPPED,
    OCR_PAGES,
    LoadError,
    Parsed,
    decode_text,
    with_detail,
)
from index.types import Document, Skipped

log = logging.getLogger(__name__)

SUPPORTED = frozenset(READERS)
__all__ = [
    "MAX_UNZIPPED",
    "SUPPORTED",
    "FileEntry",
    "LoadError",
    "Parsed",
    "decode_text",
    "load",
    "scan",
]


@dataclass(frozen=True)
class FileEntry:
    """A candidate file: where it is, its path relative to the root, and a hash of its bytes."""

    path: Path
    source: str
    file_hash: str
    size: int
    named: bool = False  # named on its own (not found by walking a folder)


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes as they are now, refusing a file that grew past the limit since scan."""
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise LoadError(f"too large (more than {max_bytes:,} bytes)")
    return data


def scan(
    roots: Iterable[Path], max_bytes: int = MAX_FILE_BYTES, docs: Path | None = None
) -> tuple[list[FileEntry], list[Skipped]]:
    """Walk the folders (or single files) and hash every supported file, skipping the rest.

    A file named on its own inside ``docs`` (the documents folder) is named by its path from
    there, as a walk of that folder names it; elsewhere, by its file name. A file found twice
    is listed once.
    """
    entries: list[FileEntry] = []
    skipped: list[Skipped] = []
    folder = Path(os.path.abspath(docs)) if docs is not None else None
    for root in roots:
        root = Path(root)
        named = root.is_file()
        if named:
            base, files = root.parent, [root]
            if folder is not None and Path(os.path.abspath(root)).is_relative_to(folder):
                base, files = folder, [Path(os.path.abspath(root))]
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
                    hint = CONVERT.get(path.suffix.lower())
                    reason = f"unsupported file type '{path.suffix or '(none)'}'"
                    skipped.append(Skipped(source, f"{reason}: {hint}" if hint else reason))
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
                entries.append(FileEntry(path, source, _hash_file(real), size, named))
            except OSError as exc:
                skipped.append(Skipped(source, f"cannot be read ({exc.strerror or exc})"))
            except RuntimeError:  # Path.resolve() on Python < 3.13 raises it for a link loop
                skipped.append(Skipped(source, "cannot be read (symbolic link loop)"))
    return _once(entries), skipped


def _once(entries: list[FileEntry]) -> list[FileEntry]:
    """Each source once (a file named on its own, and found in its folder too)."""
    first: dict[str, int] = {}
    out: list[FileEntry] = []
    for e in entries:
        if e.source not in first:
            first[e.source] = len(out)
            out.append(e)
        elif e.named:
            out[first[e.source]] = replace(out[first[e.source]], named=True)
    return out


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


def load(
    entry: FileEntry, max_bytes: int = MAX_FILE_BYTES, ocr_pages: int = OCR_PAGES
) -> Document | Skipped:
    """Read one file into a Document, or say why it cannot be indexed (OCR reads at most
    ``ocr_pages`` pages of it).

    The document's hash is of the bytes read here, not of those seen by ``scan``: a file
    rewritten in between is indexed as it was read, and differs from the file on disk at the
    next run, so it is read again then rather than recorded as unchanged.
    """
    try:
        data = _read_capped(entry.path, max(max_bytes, entry.size))
        file_hash = hashlib.sha256(data).hexdigest()
        parsed = read(entry.path.suffix.lower(), data, ocr_pages)
    except LoadError as exc:
        return Skipped(entry.source, str(exc))
    except MemoryError:
        return Skipped(entry.source, "too large to parse in memory")
    except OSError as exc:
        return Skipped(entry.source, f"cannot be read ({exc.strerror or exc})")
    except Exception as exc:  # third-party parsers raise anything on bad files
        log.debug("the reader failed on %s", entry.source, exc_info=True)
        kind = entry.path.suffix.lower() or "this type of"
        reason = f"cannot be parsed: it is damaged, or not really a {kind} file"
        return Skipped(entry.source, with_detail(reason, exc))
    del data
    text, pages = _clean(parsed.text, parsed.pages)
    if not text.strip():
        return Skipped(entry.source, "no text found")
    title = parsed.title or (_first_line(text) if parsed.title_from_text else "")
    return Document(entry.source, text, file_hash, title, pages, parsed.notes)


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
    for line in text[:10_000].splitlines():  # not the whole text: it may be millions of lines
        if line.strip():
            line = line.strip()
            return line if len(line) <= 120 else ""
    return ""
