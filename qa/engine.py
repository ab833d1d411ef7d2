"""The question-answering pipeline: check the question, retrieve, answer, cite."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from index import Corpus, DocumentInfo, DocumentText, IngestReport, make_embedder, store_identity
from index import ingest as index_ingest
from qa.answer import extract, verdict
from qa.answer.extract import NOT_IN_DOCUMENTS, NOT_SURE
from qa.errors import IndexNotFoundError, LLMAuthError, LLMError
from qa.llm.client import make_llm
from qa.question.asked import asked_weights
from qa.question.clean import clean_history, clean_question, standalone_question
from qa.retrieval.hybrid import Retriever
from qa.settings import Settings
from qa.types import ANSWERED, REFUSED, Answer, Passage, Turn

log = logging.getLogger(__name__)

__all__ = ["NOT_IN_DOCUMENTS", "NOT_SURE", "Engine", "get_engine", "ingest", "reset_engines"]
MAX_ENGINES = 16  # engines (one per distinct settings) kept; they share their corpus


class Engine:
    """Everything a question needs, loaded once: embedder, store, keyword index, model."""

    def __init__(self, settings: Settings, corpus: Corpus | None = None, llm=None):
        self.settings = settings
        self.corpus = corpus or open_corpus(settings)
        self.embedder = self.corpus.embedder
        self.retriever = Retriever(settings, self.corpus)
        # None: extractive answers. ``llm``: any object with LLM's model/stream/complete (e.g.
        # qa.llama_index's wrapper of a llama-index LLM) instead of the configured one.
        self.llm = llm if llm is not None else make_llm(settings)

    def ingest(self, paths=None, progress=None, **options) -> IngestReport:
        """Index documents into this engine's store and make them answerable at once.

        The app's ingest (at start and after an upload): by default it prunes as the store's
        backend does for an app (embedded: the folder is mirrored; over a Chroma server, where
        replicas each have their own folder, nothing is pruned and removal is explicit,
        ``remove_document``). ``options``: those of ``index.ingest`` (``add_back``, ...).
        """
        options.setdefault("prune", None)
        return self.corpus.ingest(self.settings.ingest_config, paths, progress=progress, **options)

    @property
    def mode(self) -> str:
        """How this engine answers: "extractive", or "generated:<model>"."""
        return f"generated:{self.llm.model}" if self.llm is not None else "extractive"

    def documents(self) -> list[DocumentInfo]:
        """The indexed files: source, title, chunks, pages and status."""
        return self.corpus.documents()

    def document(self, source: str) -> DocumentText | None:
        """An indexed document's text, with offsets matching its passages (None if unknown)."""
        return self.corpus.document(source)

    def original(self, source: str) -> bytes | None:
        """The bytes of an indexed document's file (e.g. a PDF to render a page of), if kept.

        From the documents folder, else (another replica's upload) from the Chroma server.
        """
        docs = Path(self.settings.docs_dir).resolve()
        path = (docs / source).resolve()
        return self.corpus.original(source, path if path.is_relative_to(docs) else None)

    def remove_document(self, source: str) -> None:
        """Drop a document's chunks from the index (the file itself is the caller's business)."""
        self.corpus.remove(source)

    def retrieve(
        self, question: str, k: int | None = None, mode: str | None = None
    ) -> list[Passage]:
        """The ranked passages for a question."""
        q = clean_question(question, self.settings.max_question_chars)
        self._require_index()
        return self.retriever.search(q, k, mode)

    def _require_index(self) -> None:
        self.corpus.refresh()
        if len(self.corpus) == 0:
            raise IndexNotFoundError(self.corpus.where)

    def relevance(self, passages: Sequence[Passage], question: str) -> float:
        """How well the best passage matches the question, 0-1 (below min_relevance: refuse).

        See ``qa.answer.verdict.relevance``.
        """
        return verdict.relevance(passages, self.question_weights(question))

    def question_weights(self, question: str) -> dict[str, float]:
        """The question's words with their IDF here, less those that only shape the question."""
        return asked_weights(self.corpus.weights(question), question)

    @property
    def thresholds(self) -> verdict.Thresholds:
        """Where this engine's refusals end and its confident answers begin."""
        s = self.settings
        return verdict.Thresholds(s.min_relevance, s.answer_confidence)

    def ask(self, question: str, history: Sequence[Turn] | None = None) -> Answer:
        """Answer a question from the documents, with citations, or refuse."""
        *_, answer = self.ask_stream(question, history)
        return answer

    def ask_stream(
        self, question: str, history: Sequence[Turn] | None = None
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text, then the final Answer."""
        t0 = time.perf_counter()
        q = clean_question(question, self.settings.max_question_chars)
        history = clean_history(history)
        self._require_index()
        if self.llm is not None:
            yield from self._ask_generated(q, history, t0)
            return
        standalone = standalone_question(q, history)
        vector = self.corpus.embed_query(standalone)
        passages = self.retriever.search(standalone, vector=vector)
        t1 = time.perf_counter()
        answer = self._extractive(q, standalone, vector, passages, _follows_an_answer(q, history))
        t2 = time.perf_counter()
        timings = {
            "retrieve_ms": (t1 - t0) * 1000,
            "answer_ms": (t2 - t1) * 1000,
            "total_ms": (t2 - t0) * 1000,
        }
        yield answer.text
        yield replace(answer, timings=timings)

    def _ask_generated(
        self, q: str, history: Sequence[Turn] | None, t0: float
    ) -> Iterator[str | Answer]:
        """The model writes the answer; any model fault falls back to the extractive answer."""
        from qa.answer import generate
        from qa.question import condense

        timings: dict[str, float] = {}
        fault: LLMError | None = None
        # One deadline for the model calls of this answer, from the first request on (None: the
        # answer's request starts it): a stuck or trickling server holds it no longer than that.
        deadline = None
        standalone = standalone_question(q, history)
        if self.settings.llm_condense and any(t.get("role") == "user" for t in history or ()):
            tc = time.perf_counter()
            deadline = _call_deadline(self.llm)
            try:
                standalone = (
                    condense.condense(self.llm, q, history, self.settings, deadline) or standalone
                )
            except LLMAuthError:
                raise
            except LLMError as exc:
                fault = exc
            timings["condense_ms"] = (time.perf_counter() - tc) * 1000
        vector = self.corpus.embed_query(standalone)
        passages = self.retriever.search(standalone, vector=vector)
        t1 = time.perf_counter()
        timings["retrieve_ms"] = (t1 - t0) * 1000
        answer, shown, usage = None, False, {}
        # Only clear misses are refused before the model: a borderline question goes to it with
        # its passages (the prompt lets it say that they do not answer).
        relevant = bool(passages) and (
            self.relevance(passages, standalone) >= self.settings.min_relevance
        )
        if fault is None and relevant:
            try:
                for item in generate.generate_stream(
                    self.llm, standalone, passages, self.embedder,
                    self.corpus.weights, self.settings, deadline, usage,
                ):  # fmt: skip
                    if isinstance(item, generate.Checked):
                        answer = self._generated_answer(item, q, standalone, passages)
                        answer = replace(answer, usage=dict(usage))
                    else:
                        if not shown:
                            timings["first_token_ms"] = (time.perf_counter() - t0) * 1000
                        shown = True
                        yield item
            except LLMAuthError:
                raise
            except LLMError as exc:
                fault, answer = exc, None
        if answer is None:  # refused before asking the model, or the model failed
            answer = self._extractive(q, standalone, vector, passages)
            if fault is not None:
                log.info("model failed, extractive fallback: %s", fault)
                notice = f"{fault} This is the extractive answer instead."
                answer = replace(answer, mode="extractive-fallback", notice=notice)
            yield ("\n\n" if shown else "") + answer.text
        t2 = time.perf_counter()
        timings.update(answer_ms=(t2 - t1) * 1000, total_ms=(t2 - t0) * 1000)
        yield replace(answer, timings=timings)

    def _generated_answer(self, checked, q: str, standalone: str, passages) -> Answer:
        notice = ""
        if not checked.citations and not checked.refused:
            notice = "The model cited no passage for this answer; check it against the documents."
        elif any(not s.supported for s in checked.sentences):
            notice = "Some sentences are not supported by the passages they cite (marked)."
        return Answer(
            question=q,
            text=checked.text,
            citations=checked.citations,
            status=REFUSED if checked.refused else ANSWERED,
            retrieved=tuple(passages),
            mode=self.mode,
            standalone_question=standalone,
            sentences=checked.sentences,
            notice=notice,
        )

    def _extractive(self, question, standalone, vector, passages, follow_up=False) -> Answer:
        weights = self.question_weights(standalone)
        thresholds = self.thresholds
        if follow_up:  # the conversation is on a topic the documents cover: never refused outright
            thresholds = replace(thresholds, min_relevance=float("-inf"))
        draft = extract.answer(
            standalone, list(passages), weights, thresholds, self.settings.answer_sentences
        )
        return Answer(
            question=question,
            text=draft.text,
            citations=draft.citations,
            status=draft.status,
            retrieved=tuple(passages),
            standalone_question=standalone,
        )


def _call_deadline(llm) -> float | None:
    """When the model calls of one answer must be done (None: a model without deadlines)."""
    start = getattr(llm, "call_deadline", None)
    return start() if callable(start) else None


def _follows_an_answer(question: str, history: Sequence[Turn]) -> bool:
    """Whether the question leans on the conversation and the last reply answered something.

    Such a follow-up ("where is he going next?") asks about what the documents were just found to
    cover, so at worst it is "not sure", with the closest passages.
    """
    if standalone_question(question, history) == question:
        return False
    replies = [t["content"] for t in history if t.get("role") == "assistant"]
    return bool(replies) and not replies[-1].startswith(NOT_IN_DOCUMENTS)


_CORPORA: OrderedDict[tuple, Corpus] = OrderedDict()
_ENGINES: OrderedDict[tuple, Engine] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _corpus_key(settings: Settings) -> tuple:
    return (store_identity(settings.store_config), settings.collection, settings.embed_config)


def ingest(settings: Settings, paths=None, **options) -> IngestReport:
    """Index documents into the store these settings name: the one way in for every entry point
    (``qa.ingest``, ``qa ingest``, the app's start and uploads, llama-index, ``qa eval``).

    Where this process has that corpus open, the ingest writes through it and the corpus
    follows at once (no second store on the same collection); else the ingest opens the store
    for its own run. ``options``: those of ``index.ingest`` (prune, rebuild, documents, ...).
    """
    with _CACHE_LOCK:
        corpus = _CORPORA.get(_corpus_key(settings))
    if corpus is not None:
        return corpus.ingest(settings.ingest_config, paths, **options)
    return index_ingest(settings.ingest_config, paths, **options)


def open_corpus(settings: Settings) -> Corpus:
    """The corpus (store, keyword index, embedder) these settings name, opened once per process."""
    key = _corpus_key(settings)
    with _CACHE_LOCK:
        corpus = _CORPORA.get(key)
    if corpus is None:
        corpus = Corpus(settings.store_config, make_embedder(settings.embed_config))
        with _CACHE_LOCK:
            corpus = _CORPORA.setdefault(key, corpus)
    return corpus


def get_engine(settings: Settings | None = None, **options) -> Engine:
    """The engine for these settings; engines that differ only in options share one corpus."""
    if settings is None:
        settings = Settings(**options)
    elif options:
        # Validated, unlike model_copy(update=...): "5" becomes 5 and a key a SecretStr.
        settings = type(settings)(**{**settings.model_dump(), **options})
    # The JSON masks secrets; two API keys must not share one engine.
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    key = (settings.model_dump_json(), secret)
    with _CACHE_LOCK:
        engine = _ENGINES.get(key)
        if engine is not None:
            _ENGINES.move_to_end(key)
            return engine
    engine = Engine(settings, open_corpus(settings))
    with _CACHE_LOCK:
        _ENGINES[key] = engine
        while len(_ENGINES) > MAX_ENGINES:
            _ENGINES.popitem(last=False)
    return engine


def reset_engines() -> None:
    """Forget loaded engines and corpora (after a store was deleted or rebuilt elsewhere)."""
    with _CACHE_LOCK:
        _ENGINES.clear()
        _CORPORA.clear()
