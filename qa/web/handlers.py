"""What the web chat does, over one Engine: plain methods, testable without a server.

The page (``qa.web.page``) wires these to its components; files reach the documents folder only
through ``qa.folder``, and the index through the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from qa.errors import QAError, UploadRejected
from qa.folder import Folder, remove_document, safe_filename
from qa.types import Answer
from qa.web.render import (
    render_answer,
    render_documents,
    render_error,
    render_question,
    render_status,
    render_streaming,
)

if TYPE_CHECKING:
    from qa.pipeline import Engine

log = logging.getLogger(__name__)

ProgressFn = Callable[..., Any]


class ChatUI:
    """The page's behaviour over one Engine: chat, document list, upload and removal."""

    def __init__(self, engine: Engine, max_upload_bytes: int | None = None):
        self.engine = engine
        self.settings = engine.settings
        self.docs_dir = Path(self.settings.docs_dir)
        self.max_upload_bytes = max_upload_bytes or self.settings.max_file_bytes
        self.folder = Folder(self.docs_dir, self.max_upload_bytes)

    # Chat ------------------------------------------------------------------------------------

    def respond(
        self, message: str, chat: list | None, turns: list | None
    ) -> Iterator[tuple[list, list, str]]:
        """Stream the answer into the chat; yields (chat messages, plain history, input box)."""
        chat, turns = list(chat or []), list(turns or [])
        question = message if isinstance(message, str) else ""
        if question.strip():
            chat.append({"role": "user", "content": render_question(question)})
        chat.append({"role": "assistant", "content": render_streaming("")})
        # Each step is a new list: Gradio diffs against what it was sent before.
        yield list(chat), turns, ""
        text, answer = "", None
        try:
            for piece in self.engine.ask_stream(question, turns):
                if isinstance(piece, Answer):
                    answer = piece
                elif isinstance(piece, str) and piece:
                    text += piece
                    chat[-1] = {"role": "assistant", "content": render_streaming(text)}
                    yield list(chat), turns, ""
            if answer is None:
                raise RuntimeError("the answer stream ended without an answer")
        except QAError as exc:
            chat[-1] = {"role": "assistant", "content": render_error(str(exc))}
            yield chat, turns, question  # the question goes back into the box, nothing is lost
            return
        except Exception as exc:  # the page shows a message, the log the traceback
            log.exception("answering %r failed", question)
            detail = f"{type(exc).__name__}: {exc}"[:300]
            chat[-1] = {
                "role": "assistant",
                "content": render_error(
                    f"Something went wrong ({detail}). The app is still running: try again; "
                    "the server log has the details."
                ),
            }
            yield chat, turns, question
            return
        chat[-1] = {"role": "assistant", "content": render_answer(answer)}
        turns += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.text},
        ]
        yield chat, turns, ""

    @staticmethod
    def clear() -> tuple[list, list, str]:
        """An empty chat and history."""
        return [], [], ""

    # Documents -------------------------------------------------------------------------------

    def documents(self) -> tuple[str, dict]:
        """The documents table and the choices of the remove list."""
        try:
            docs = self.engine.documents()
        except QAError as exc:
            return render_status([("error", str(exc))]), gr.update(choices=[], value=None)
        return render_documents(docs), gr.update(choices=[d.source for d in docs], value=None)

    def upload(
        self,
        files: Sequence[Any] | None,
        progress: ProgressFn = gr.Progress(),  # noqa: B008 - Gradio's idiom
    ) -> tuple[str, str, dict, None]:
        """Save uploaded files into the documents folder and index them at once.

        Returns (status, documents table, remove choices, cleared upload box).
        """
        lines: list[tuple[str, str]] = []
        saved: dict[str, bool] = {}  # file name -> whether it replaced an earlier version
        for f in files or ():
            original = getattr(f, "orig_name", None) or Path(str(getattr(f, "name", f))).name
            try:
                name = safe_filename(original)
                saved[name] = self.folder.save(Path(str(getattr(f, "name", f))), name)
            except UploadRejected as exc:
                lines.append(("error", str(exc)))
            except OSError as exc:
                lines.append(("error", f"{original}: could not be saved ({exc.strerror or exc})."))
        if not files:
            lines.append(("error", "Choose a file to upload first."))
        if saved:
            lines += self._index(saved, progress)
        return (render_status(lines), *self.documents(), None)

    def _index(self, saved: dict[str, bool], progress: ProgressFn) -> list[tuple[str, str]]:
        """Bring the index in line with the folder and report on the saved files."""
        lines: list[tuple[str, str]] = []
        progress(0.0, desc="Indexing…")

        def step(done: int, total: int) -> None:
            progress((done, total), desc="Indexing", unit="files")

        try:
            report = self.engine.ingest(progress=step)
        except QAError as exc:
            names = ", ".join(saved)
            return [("error", f"Saved {names}, but indexing failed: {exc}")]
        except Exception as exc:  # shown in the page, the traceback in the log
            log.exception("indexing uploads failed")
            return [
                (
                    "error",
                    f"Saved {', '.join(saved)}, but indexing failed ({type(exc).__name__}: {exc}).",
                )
            ]
        skipped = {s.source: s.reason for s in report.skipped}
        for name, replaced in saved.items():
            if name in skipped:
                self.folder.delete(name)  # a file the index refuses is not kept
                lines.append(("error", f"{name} was not added: {skipped[name]}."))
            elif name in report.added:
                lines.append(("ok", f"Added {name}; you can ask about it now."))
            elif name in report.updated:
                lines.append(("ok", f"Replaced {name} with the new version; it is indexed."))
            else:
                what = "is already indexed" if replaced else "is indexed"
                lines.append(("ok", f"{name} {what} (no change)."))
        return lines

    def remove(self, source: str | None) -> tuple[str, str, dict]:
        """Delete a document from the documents folder and from the index."""
        if not source:
            return (render_status([("error", "Choose a document to remove.")]), *self.documents())
        try:
            remove_document(self.engine, self.folder, source)
        except QAError as exc:
            return (render_status([("error", str(exc))]), *self.documents())
        return (render_status([("ok", f"Removed {source}.")]), *self.documents())
