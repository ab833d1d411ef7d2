"""What the web chat does, over one Engine: plain methods, testable without a server.

The page (``qa.web.page``) wires these to its components. A chat is a ``Conversation`` (plain
JSON the browser keeps); files reach the documents folder only through ``qa.library.folder``, and the
index through the engine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from qa.errors import QAError, UploadRejected
from qa.library import feedback as feedback_log
from qa.library.folder import Folder, remove_document, safe_filename
from qa.types import Answer
from qa.web.conversation import (
    Conversation,
    Feedback,
    add_turn,
    history,
    new_conversation,
    parse_conversation,
    to_json,
    with_feedback,
)
from qa.web.panel import merge_rows, render_documents, render_status
from qa.web.pdfpage import render_page
from qa.web.render import render_error, render_pending, render_transcript
from qa.web.viewer import pdf_pages, render_viewer, render_viewer_message

if TYPE_CHECKING:
    from qa.engine import Engine

log = logging.getLogger(__name__)

ProgressFn = Callable[..., Any]
ACTIONS = ("unindex", "delete", "index")
MAX_SOURCE_CHARS = 4096  # a document's name, as the page sends it back


class Step(NamedTuple):
    """One update of the chat while a question is answered; None leaves a part as it is."""

    live: str | None  # the question being answered and its answer so far (or an error)
    conversation: Conversation
    transcript: str | None  # the finished turns, when a turn was added
    box: str | None  # the question box (given back after an error, so nothing is lost)


def _noop(*_args: Any, **_kw: Any) -> None:
    return None


def _stamp() -> str:
    return f"{time.time():.3f}"


class ChatUI:
    """The page's behaviour over one Engine: chat, sources, feedback, the documents panel."""

    def __init__(
        self, engine: Engine, max_upload_bytes: int | None = None, examples: Sequence[str] = ()
    ):
        self.engine = engine
        self.settings = engine.settings
        self.docs_dir = Path(self.settings.docs_dir)
        self.max_upload_bytes = max_upload_bytes or self.settings.max_file_bytes
        self.folder = Folder(self.docs_dir, self.max_upload_bytes)
        self.examples = tuple(examples)
        self.feedback_file = feedback_log.feedback_path(self.settings.store_dir)

    # Chat ------------------------------------------------------------------------------------

    def restore(self, raw: Any) -> tuple[str, Conversation, str]:
        """A chat back from the browser: (transcript, conversation, live area cleared)."""
        conv, dropped = parse_conversation(raw) if raw else (new_conversation(), 0)
        if dropped:
            log.info("restored chat %s without %d damaged turn(s)", conv["id"], dropped)
        return render_transcript(conv, self.examples), conv, ""

    def respond(self, question: Any, conv: Conversation | None) -> Iterator[Step]:
        """Answer a question in a chat, streaming; the last step has the turn added."""
        conv = conv or new_conversation()
        question = question if isinstance(question, str) else ""
        if not question.strip():
            return  # an empty box (e.g. Enter pressed twice): nothing to ask, nothing to show
        yield Step(render_pending(question), conv, None, None)
        text, answer = "", None
        try:
            for piece in self.engine.ask_stream(question, history(conv)):
                if isinstance(piece, Answer):
                    answer = piece
                elif isinstance(piece, str) and piece:
                    text += piece
                    yield Step(render_pending(question, text), conv, None, None)
            if answer is None:
                raise RuntimeError("the answer stream ended without an answer")
        except QAError as exc:
            yield Step(render_error(question, str(exc)), conv, None, question)
            return
        except Exception as exc:  # the page shows a message, the log the traceback
            log.exception("answering %r failed", question)
            detail = f"{type(exc).__name__}: {exc}"[:300]
            message = (
                f"Something went wrong ({detail}). The app is still running: try again; the "
                "server log has the details."
            )
            yield Step(render_error(question, message), conv, None, question)
            return
        conv = add_turn(conv, question, answer)
        yield Step("", conv, render_transcript(conv, self.examples), None)

    def feedback(
        self, conv: Conversation | None, data: Mapping[str, Any]
    ) -> tuple[str, Conversation, str]:
        """Keep a rating (and correction) of one answer: (transcript, conversation, its JSON).

        QAError when the feedback file cannot be written; the chat is left as it was.
        """
        conv = conv or new_conversation()
        turn, rating = data.get("turn"), data.get("rating")
        if not isinstance(turn, int) or not 0 <= turn < len(conv["turns"]):
            raise QAError("That answer is no longer in this chat; reload the page.")
        if rating not in ("up", "down"):
            raise QAError("Feedback is a thumbs up or down.")
        correction = data.get("correction") if isinstance(data.get("correction"), str) else ""
        said: Feedback = {"rating": rating}
        if correction.strip():
            said["correction"] = correction.strip()[: feedback_log.MAX_CORRECTION]
        if data.get("unanswerable") is True:
            said["unanswerable"] = True
        record = feedback_log.make_record(
            f"{conv['id']}:{turn}",
            conv["turns"][turn]["answer"],
            rating,
            correction=said.get("correction", ""),
            unanswerable=said.get("unanswerable", False),
            collection=self.settings.collection,
            docs_dir=str(self.docs_dir),
        )
        feedback_log.append(self.feedback_file, record)
        conv = with_feedback(conv, turn, said)
        return render_transcript(conv, self.examples), conv, to_json(conv)

    def open_source(self, conv: Conversation | None, data: Mapping[str, Any]) -> str:
        """The source viewer for citation ``n`` of turn ``turn`` of the chat."""
        turns = (conv or new_conversation())["turns"]
        turn, n = data.get("turn"), data.get("n")
        if not isinstance(turn, int) or not 0 <= turn < len(turns):
            return render_viewer_message("That answer is no longer in this chat.", _stamp())
        try:
            answer = Answer.from_dict(turns[turn]["answer"])
        except (KeyError, TypeError, ValueError):
            return render_viewer_message("That answer could not be read back.", _stamp())
        cite = next((c for c in answer.citations if c.n == n), None)
        if cite is None:
            return render_viewer_message(f"The answer has no source [{n}].", _stamp())
        try:
            doc = self.engine.document(cite.source)
        except QAError as exc:
            return render_viewer_message(str(exc), _stamp())
        image = None
        if cite.source.lower().endswith(".pdf"):
            data_bytes = self.engine.original(cite.source)
            if data_bytes:
                sentences = [s.text for s in cite.sentences] or [cite.text[:400]]
                try:
                    pages = pdf_pages(cite, len(doc.pages) if doc else None) or [1]
                    image = render_page(data_bytes, pages, sentences, cite.text)
                except Exception:  # the text view still shows the passage
                    log.exception("rendering a page of %s failed", cite.source)
        return render_viewer(cite, doc, image, stamp=_stamp())

    # Documents -------------------------------------------------------------------------------

    def documents(self) -> str:
        """The documents panel: indexed documents and the folder's files not indexed."""
        try:
            indexed = self.engine.documents()
        except QAError as exc:
            return render_status([("error", str(exc))])
        try:
            files = self.folder.files()
        except OSError:
            files = []
        return render_documents(merge_rows(indexed, files))

    def upload(
        self,
        files: Sequence[Any] | None,
        progress: ProgressFn = _noop,
    ) -> tuple[str, str, None]:
        """Save uploaded files into the documents folder and index them at once.

        Returns (status, documents panel, cleared upload box).
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
        return render_status(lines), self.documents(), None

    def _index(self, saved: dict[str, bool], progress: ProgressFn) -> list[tuple[str, str]]:
        """Bring the index in line with the folder and report on the saved files."""
        report, error = self._ingest(progress, add_back=list(saved))  # removed before or not
        if error:
            return [("error", f"Saved {', '.join(saved)}, but indexing failed: {error}")]
        lines: list[tuple[str, str]] = []
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

    def _ingest(self, progress: ProgressFn, add_back: list[str] | None = None):
        """Index the folder (``add_back``: documents the user adds again after removing them);
        (report, None) or (None, the error in words)."""
        progress(0.0, desc="Indexing…")

        def step(done: int, total: int) -> None:
            progress((done, total), desc="Indexing", unit="files")

        try:
            return self.engine.ingest(progress=step, add_back=add_back or ()), None
        except QAError as exc:
            return None, str(exc)
        except Exception as exc:  # shown in the page, the traceback in the log
            log.exception("indexing failed")
            return None, f"{type(exc).__name__}: {exc}"

    def document_action(
        self, data: Mapping[str, Any], progress: ProgressFn = _noop
    ) -> tuple[str, str]:
        """A confirmed action of the documents panel: (status, documents panel)."""
        action, source = data.get("action"), data.get("source")
        if (
            action not in ACTIONS
            or not isinstance(source, str)
            or not 0 < len(source) <= MAX_SOURCE_CHARS
        ):
            return render_status([("error", "Choose a document and an action.")]), self.documents()
        if action == "index":
            report, error = self._ingest(progress, add_back=[source])
            if error:
                line = ("error", f"Indexing failed: {error}")
            elif any(s.source == source for s in report.skipped):
                reason = next(s.reason for s in report.skipped if s.source == source)
                line = ("error", f"{source} cannot be indexed: {reason}.")
            else:
                line = ("ok", f"Indexed the documents folder; {source} is in the index.")
            return render_status([line]), self.documents()
        return self.remove(source, keep_file=action == "unindex")

    def remove(self, source: str | None, *, keep_file: bool = False) -> tuple[str, str]:
        """Remove a document from the index and, unless keep_file, delete its file."""
        if not source:
            return render_status([("error", "Choose a document to remove.")]), self.documents()
        try:
            deleted = remove_document(self.engine, self.folder, source, keep_file=keep_file)
        except QAError as exc:
            return render_status([("error", str(exc))]), self.documents()
        if keep_file:
            message = f"Removed {source} from the index; the file is still in the documents folder."
        else:
            gone = "Deleted" if deleted else "The file was already gone; removed"
            message = f"{gone} {source} and removed it from the index."
            if not deleted:
                message = f"{gone} {source} from the index."
        return render_status([("ok", message)]), self.documents()
