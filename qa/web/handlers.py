"""What the web chat does, over one Engine: plain methods, testable without a server.

The page (``qa.web.page``) wires these to its components. A chat is a ``Conversation`` (plain
JSON the browser keeps); files reach the documents folder only through ``qa.library.folder``, and the
index through the engine.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from index import DocumentInfo
from qa.errors import QAError, UploadRejected
from qa.library import feedback as feedback_log
from qa.library.folder import Folder, Saved, remove_document, safe_filename
from qa.types import Answer, Stage
from qa.web.conversation import (
    Conversation,
    Feedback,
    add_turn,
    history,
    new_conversation,
    parse_conversation,
    to_json,
    with_feedback,
    without_last,
)
from qa.web.panel import merge_rows, render_documents, render_status
from qa.web.pdfpage import render_page
from qa.web.render import render_error, render_pending, render_stopped, render_transcript
from qa.web.start import SHOWN, StartDoc
from qa.web.suggest import opening, suggest
from qa.web.viewer import pdf_pages, render_viewer, render_viewer_message

if TYPE_CHECKING:
    from qa.engine import Engine

log = logging.getLogger(__name__)

ProgressFn = Callable[..., Any]
ACTIONS = ("unindex", "delete", "index")
MAX_SOURCE_CHARS = 4096  # a document's name, as the page sends it back
MAX_SOURCES_JSON = 1_000_000  # characters of the documents chosen, as the browser sends them


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


def parse_sources(raw: Any) -> list[str] | None:
    """The documents the page asks of: None for all, else their names (checked by the engine).

    The page sends a JSON list, or "" for all; anything else is one clear error.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, list):  # from an event of the page's own script
        return raw
    try:
        if not isinstance(raw, str) or len(raw) > MAX_SOURCES_JSON:
            raise ValueError
        names = json.loads(raw)
        if not isinstance(names, list):
            raise ValueError
    except ValueError:
        raise QAError(
            "The documents chosen to ask could not be read; reload the page and choose again."
        ) from None
    return names


class ChatUI:
    """The page's behaviour over one Engine: chat, sources, feedback, the documents panel."""

    def __init__(
        self, engine: Engine, max_upload_bytes: int | None = None, examples: Sequence[str] = (),
        examples_source: str = "",
    ):  # fmt: skip
        self.engine = engine
        self.settings = engine.settings
        self.docs_dir = Path(self.settings.docs_dir)
        self.max_upload_bytes = max_upload_bytes or self.settings.max_file_bytes
        self.folder = Folder(self.docs_dir, self.max_upload_bytes)
        self.examples = tuple(examples)
        self.examples_source = examples_source  # the document the examples are about
        self.feedback_file = feedback_log.feedback_path(self.settings.store_dir)
        self._start: tuple[StartDoc, ...] = ()
        self._questions: dict[tuple[str, int], tuple[tuple[str, ...], str]] = {}
        self._start_lock = threading.Lock()

    # The start screen ---------------------------------------------------------------------------

    def start_docs(self) -> tuple[StartDoc, ...]:
        """The documents for the start screen, with the questions found for them so far."""
        return self._start

    def refresh_start(self, wait: bool = False) -> None:
        """Find questions to try for the documents (in the background unless ``wait``)."""
        if wait:
            self._find_questions()
        else:
            threading.Thread(target=self._find_questions, daemon=True, name="qa-start").start()

    def _find_questions(self) -> None:
        with self._start_lock:
            try:
                docs = merge_rows(self.engine.documents(), [])
            except QAError:
                return
            shown = []
            ask = None
            for d in docs:
                key = (d.source, d.chunks)
                if key not in self._questions and len(shown) < SHOWN:
                    ask = ask or self._extractive_ask()
                    self._questions[key] = self._suggest(d.source, d.title, ask)
                questions, opening = self._questions.get(key, ((), ""))
                shown.append(StartDoc(d.source, d.title, d.pages, questions, opening))
                self._start = tuple(shown)  # each document's questions appear as they are found

    def _extractive_ask(self) -> Callable[[str, list[str]], Answer]:
        from qa.engine import Engine

        if self.engine.llm is None:
            return lambda q, sources: self.engine.ask(q, sources=sources)
        plain = Engine(self.settings, self.engine.corpus, llm=None)
        plain.llm = None  # questions to try are found without a model
        return lambda q, sources: plain.ask(q, sources=sources)

    def _suggest(self, source: str, title: str, ask) -> tuple[tuple[str, ...], str]:
        """Questions to try in a document (the examples, for theirs) and how it begins."""
        try:
            doc = self.engine.document(source)
            if doc is None:
                return (), ""
            if source == self.examples_source and self.examples:
                return self.examples, opening(doc.text, title)
            return suggest(doc.text, source, ask), opening(doc.text, title)
        except Exception:  # the start screen shows the document without questions
            log.exception("finding questions to try in %s failed", source)
            return (), ""

    def transcript(self, conv: Conversation) -> str:
        """A chat as the page shows it (an empty one: the start screen)."""
        return render_transcript(conv, self.examples, self._start)

    # Chat ------------------------------------------------------------------------------------

    def restore(self, raw: Any) -> tuple[str, Conversation, str]:
        """A chat back from the browser: (transcript, conversation, live area cleared)."""
        conv, dropped = parse_conversation(raw) if raw else (new_conversation(), 0)
        if dropped:
            log.info("restored chat %s without %d damaged turn(s)", conv["id"], dropped)
        return self.transcript(conv), conv, ""

    def respond(
        self, question: Any, conv: Conversation | None, sources: Any = None
    ) -> Iterator[Step]:
        """Answer a question in a chat, streaming; the last step has the turn added.

        ``sources``: the documents to ask, as the page sends them (JSON list; "" for all).
        """
        conv = conv or new_conversation()
        question = question if isinstance(question, str) else ""
        if not question.strip():
            return  # an empty box (e.g. Enter pressed twice): nothing to ask, nothing to show
        yield Step(render_pending(question), conv, None, None)
        text, answer = "", None
        try:
            chosen = parse_sources(sources)
            for piece in self.engine.events(question, history(conv), chosen):
                if isinstance(piece, Answer):
                    answer = piece
                elif isinstance(piece, Stage):
                    if not text and piece.kind == "reading":
                        yield Step(render_pending(question, "", piece), conv, None, None)
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
        yield Step("", conv, self.transcript(conv), None)

    def ask_again(self, conv: Conversation | None, sources: Any = None) -> Iterator[Step]:
        """Answer the last question of a chat afresh, in place of its answer."""
        conv = conv or new_conversation()
        if not conv["turns"]:
            return
        question = conv["turns"][-1]["question"]
        shorter = without_last(conv)
        for i, step in enumerate(self.respond(question, shorter, sources)):
            yield step._replace(transcript=self.transcript(shorter)) if i == 0 else step

    def edit_last(self, conv: Conversation | None) -> tuple[str, Conversation, str, str]:
        """Take the last question back into the box to edit: (transcript, chat, its JSON, the
        question). Its answer goes; the edited question is asked as the new last turn."""
        conv = conv or new_conversation()
        if not conv["turns"]:
            return self.transcript(conv), conv, to_json(conv), ""
        question = conv["turns"][-1]["question"]
        shorter = without_last(conv)
        return self.transcript(shorter), shorter, to_json(shorter), question

    def stopped(self, question: Any) -> tuple[str, str]:
        """After Stop: the live area says so and the question goes back to the box."""
        question = question if isinstance(question, str) else ""
        return render_stopped(question), question

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
        return self.transcript(conv), conv, to_json(conv)

    def open_source(self, conv: Conversation | None, data: Mapping[str, Any]) -> str:
        """The source viewer for citation ``n`` of turn ``turn`` of the chat."""
        turns = (conv or new_conversation())["turns"]
        turn, n, read = data.get("turn"), data.get("n"), data.get("read")
        if not isinstance(turn, int) or not 0 <= turn < len(turns):
            return render_viewer_message("That answer is no longer in this chat.", _stamp())
        try:
            answer = Answer.from_dict(turns[turn]["answer"])
        except (KeyError, TypeError, ValueError):
            return render_viewer_message("That answer could not be read back.", _stamp())
        if read is not None:  # a passage the model was given ("Sources read")
            cite = next((c for c in answer.read if c.n == read), None)
        else:
            cite = next((c for c in answer.citations if c.n == n), None)
        if cite is None:
            return render_viewer_message("The answer has no such source.", _stamp())
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

    def documents(self, indexed: Sequence[DocumentInfo] | None = None) -> str:
        """The documents panel: indexed documents (``indexed``, when just read) and the folder's
        files not indexed."""
        try:
            indexed = self.engine.documents() if indexed is None else indexed
        except QAError as exc:
            return render_status([("error", str(exc))])
        try:
            files = self.folder.files()
        except OSError:
            files = []
        return render_documents(merge_rows(indexed, files), stamp=_stamp())

    def upload(
        self,
        files: Sequence[Any] | None,
        progress: ProgressFn = _noop,
    ) -> tuple[str, str, None]:
        """Save uploaded files into the documents folder and index them at once.

        Returns (status, documents panel, cleared upload box).
        """
        lines: list[tuple[str, str]] = []
        before = self._indexed()  # read first: a folder watcher may index the files before us
        saved: dict[str, Saved] = {}  # file name -> what the save did to the folder
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
        after = None
        if saved:
            report_lines, after = self._index(saved, before, progress)
            lines += report_lines
            self.refresh_start()
        return render_status(lines), self.documents(after), None

    def _indexed(self) -> list[DocumentInfo] | None:
        """The indexed documents (None when the index cannot say)."""
        try:
            return self.engine.documents()
        except QAError:
            return None

    def _index(
        self, saved: dict[str, Saved], before: Sequence[DocumentInfo] | None, progress: ProgressFn
    ) -> tuple[list[tuple[str, str]], list[DocumentInfo] | None]:
        """Bring the index in line with the folder and report on the saved files; also the
        indexed documents after it (for the panel).

        What happened to a file is read from the index before and after, not only from this
        ingest's report: the folder watcher may have indexed it first, and this ingest found
        nothing left to do.
        """
        report, error = self._ingest(progress, add_back=list(saved))  # removed before or not
        if error:
            return [("error", f"Saved {', '.join(saved)}, but indexing failed: {error}")], None
        indexed = self._indexed()
        had = None if before is None else {d.source for d in before}
        after = {d.source for d in indexed or ()}
        lines: list[tuple[str, str]] = []
        skipped = {s.source: s.reason for s in report.skipped}
        for name, what in saved.items():
            new = had is not None and name not in had and name in after
            if name in skipped:
                self.folder.delete(name)  # a file the index refuses is not kept
                lines.append(("error", f"{name} was not added: {skipped[name]}."))
            elif name in report.added or new:
                lines.append(("ok", f"Added {name}; you can ask about it now."))
            elif name in report.updated or (what == "changed" and name in after):
                lines.append(("ok", f"Replaced {name} with the new version; it is indexed."))
            else:
                state = "is indexed" if what == "new" else "is already indexed"
                lines.append(("ok", f"{name} {state} (no change)."))
        return lines, indexed

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
            indexed = any(d.source == source for d in self.engine.documents())
            deleted = remove_document(self.engine, self.folder, source, keep_file=keep_file)
        except QAError as exc:
            return render_status([("error", str(exc))]), self.documents()
        if keep_file:
            message = f"Removed {source} from the index; the file is still in the documents folder."
        elif deleted:
            message = (
                f"Deleted {source} and removed it from the index."
                if indexed
                else f"Deleted {source} from the documents folder (it was not indexed)."
            )
        else:
            message = f"The file was already gone; removed {source} from the index."
        self.refresh_start()
        return render_status([("ok", message)]), self.documents()
