"""The documents folder: safe names for uploads, atomic saves, path-checked removal, listing.

The web chat and the ``qa`` command change the folder only through this module; the index then
follows the folder (``Engine.ingest``), or is told about a removal (``remove_document``).
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from index import CONVERT, MAX_FILE_BYTES, SUPPORTED, DocumentInfo
from index.text import control_chars
from qa.errors import FolderError, NotIndexedError, UploadRejected

log = logging.getLogger(__name__)

UPLOAD_TYPES = tuple(sorted(SUPPORTED))

Saved = Literal["new", "changed", "same"]  # what a save did to the folder

_UNSAFE_NAME = re.compile(r"[^\w\-. ()]+")
# Every C0 and C1 control, tab and line feed too; bidi controls are left to _UNSAFE_NAME ("_").
_CONTROL = control_chars(keep="", bidi=False)


class DocumentIndex(Protocol):
    """What removal needs of the index (``qa.engine.Engine`` is one)."""

    def documents(self) -> Sequence[DocumentInfo]: ...

    def remove_document(self, source: str) -> None: ...


def safe_filename(name: str) -> str:
    """A plain file name for an upload: no folders, no hidden files, a supported extension."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip()
    stem, dot, ext = base.rpartition(".")
    ext = f".{ext.lower()}" if dot else ""
    if ext not in SUPPORTED:
        what = f"{ext} files are" if ext else "files without an extension are"
        hint = f" ({CONVERT[ext]})" if ext in CONVERT else ""
        raise UploadRejected(
            f"{base or '(a file without a name)'}: {what} not supported{hint}. "
            f"Upload one of: {', '.join(UPLOAD_TYPES)}."
        )
    stem = _UNSAFE_NAME.sub("_", stem)
    stem = re.sub(r"\.{2,}", ".", stem).strip(" ._")[:100] or "document"
    return stem + ext


def format_size(n: int) -> str:
    """A byte count in KB or MB, as the upload messages show it."""
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n / 1000:.0f} KB"


@dataclass(frozen=True)
class Folder:
    """One documents folder; sources are paths relative to it, as the index names them."""

    path: Path
    max_upload_bytes: int = MAX_FILE_BYTES  # Settings.max_file_bytes: the index skips bigger ones

    def file(self, source: str) -> Path:
        """The path of a source inside the folder; FolderError if it would lie outside."""
        root = os.path.abspath(self.path)
        # abspath, not resolve: a symbolic link in the folder is removed, never what it points to.
        path = Path(os.path.abspath(Path(root) / source))
        if path == Path(root) or not path.is_relative_to(root):
            raise FolderError(f"{source} is outside the documents folder.")
        return path

    def files(self) -> list[str]:
        """The supported, non-hidden files in the folder as sources, sorted."""
        out = []
        # Hidden files and folders are never documents (and uploads are written hidden first).
        for dirpath, dirnames, filenames in os.walk(self.path):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED:
                    out.append((Path(dirpath) / name).relative_to(self.path).as_posix())
        return sorted(out)

    def save(self, upload: Path, name: str) -> Saved:
        """Copy an upload into the folder under ``name`` (from safe_filename).

        "new" when no file had the name, "changed" when it replaced other bytes, "same" when the
        file held these bytes already.
        """
        size = upload.stat().st_size
        if size == 0:
            raise UploadRejected(f"{name}: the file is empty.")
        if size > self.max_upload_bytes:
            raise UploadRejected(
                f"{name}: {format_size(size)} is over the upload limit of "
                f"{format_size(self.max_upload_bytes)}."
            )
        self.path.mkdir(parents=True, exist_ok=True)
        dest = self.path / name
        if dest.resolve().parent != self.path.resolve():
            raise UploadRejected(f"{name}: not a plain file name.")
        existed = dest.is_file()
        # Only a file of the same size can hold the same bytes: no other is read.
        before = _digest(dest) if existed and dest.stat().st_size == size else None
        # Written under a hidden name first (the scanner skips it), then renamed into place.
        fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=self.path)
        try:
            with os.fdopen(fd, "wb") as out, upload.open("rb") as src:
                shutil.copyfileobj(src, out)
            same = before is not None and _digest(Path(tmp)) == before
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        saved: Saved = "same" if same else "changed" if existed else "new"
        log.info("saved upload %s (%d bytes, %s)", name, size, saved)
        return saved

    def delete(self, source: str) -> bool:
        """Delete a source's file from the folder; True if there was one (OSError if it stays)."""
        path = self.file(source)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        log.info("deleted %s", path)
        return True


def remove_document(
    index: DocumentIndex, folder: Folder, source: str, *, keep_file: bool = False
) -> bool:
    """Drop a document from the index and, unless keep_file, its file; True if a file was deleted."""
    known = [d.source for d in index.documents()]
    if source not in known:
        if not keep_file and folder.file(source).is_file():
            # A file of the folder that is not indexed (e.g. removed from the index before):
            # deleting it is all there is to do.
            return _delete(folder, source, "it was not indexed")
        close = difflib.get_close_matches(source, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else "."
        raise NotIndexedError(f"{source} is not in the index (already removed?){hint}")
    deleted = False
    if keep_file:
        folder.file(source)  # the same check either way: a source never names a path outside
    else:
        # The file goes first: if it cannot be deleted the document stays indexed, as it was.
        deleted = _delete(folder, source, "it is still indexed")
    index.remove_document(source)
    return deleted


def _delete(folder: Folder, source: str, state: str) -> bool:
    try:
        return folder.delete(source)
    except OSError as exc:
        raise FolderError(
            f"{source} could not be deleted ({exc.strerror or exc}); {state}."
        ) from exc


def _digest(path: Path) -> bytes:
    """A file's SHA-256, read in blocks (uploads are bounded by ``max_upload_bytes``)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").digest()
