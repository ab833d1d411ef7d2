"""The engine behind ask(), the CLI, the web chat, the API and evaluation.

A question's walk, top-down (``Engine.ask_stream``): the question stage reads it
(``qa.question.read``), retrieval finds passages and the reader reads them (``find``), the
decision weighs the evidence and the answer is quoted (``answer``) — or, with a model configured,
the model writes it (``_ask_generated``) unless the decision refused.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from index import Corpus, DocumentInfo, DocumentText, IngestReport, make_embedder, store_identity
from index import ingest as index_ingest
from index.text import ENGLISH
from qa.answer import extract, verdict
from qa.answer.calibration import Calibration, calibration
from qa.answer.evidence import shape_of, weigh
from qa.answer.markers import strip_markers
from qa.answer.pages import pin_pages
from qa.answer.reader import Reader
from qa.answer.reader import load as load_reader
from qa.answer.reading import Found, reread, spot
from qa.answer.reading import read as read_passages
from qa.errors import IndexNotFoundError, LLMAuthError, LLMError
from qa.llm.client import make_llm
from qa.outcomes import MODEL, NOT_IN_DOCUMENTS, NOT_SURE
from qa.question.ask import split
from qa.question.asked import asked_weights
from qa.question.clean import clean_question
from qa.question.read import Asked
from qa.question.read import read as read_question
from qa.question.spelling import corrected
from qa.retrieval.hybrid import Retriever
from qa.retrieval.sources import chosen_sources
from qa.settings import Settings
from qa.types import ANSWERED, REFUSED, Answer, Passage, Stage, Turn

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
        self,
        question: str,
        k: int | None = None,
        mode: str | None = None,
        sources: Sequence[str] | None = None,
    ) -> list[Passage]:
        """The ranked passages for a question (of the named documents only, if given)."""
        q = clean_question(question, self.settings.max_question_chars)
        self._require_index()
        return self.retriever.search(q, k, mode, sources=chosen_sources(sources, self.corpus))

    def _require_index(self) -> None:
        self.corpus.refresh()
        if len(self.corpus) == 0:
            raise IndexNotFoundError(self.corpus.where)

    def question_weights(self, question: str) -> dict[str, float]:
        """The question's words with their IDF here, less those that only shape the question."""
        return asked_weights(self.corpus.weights(question), question)

    @property
    def reader(self) -> Reader | None:
        """The reader model, when the settings ask for it and it ships (loaded on first use)."""
        return load_reader(self.settings.reader_threads) if self.settings.reader else None

    def calibration(self, asked: Asked) -> Calibration:
        """The decision's calibration for this embedding model, reader and question language."""
        english = self._reads_english(asked)
        meaning_only = not english and self.multilingual
        cal = calibration(self.embedder_kind, self.reader is not None and english, meaning_only)
        s = self.settings
        if s.min_relevance is not None or s.answer_confidence is not None:
            cal = replace(
                cal,
                refuse_below=cal.refuse_below if s.min_relevance is None else s.min_relevance,
                confident_at=cal.confident_at
                if s.answer_confidence is None
                else s.answer_confidence,
            )
        return cal

    @property
    def embedder_kind(self) -> str:
        """ "minilm", "e5" or "openai": which calibration the embedding model has."""
        backend = self.settings.embed_config.backend
        return "minilm" if backend == "local" else backend

    def _reads_english(self, asked: Asked) -> bool:
        return asked.language == ENGLISH

    def _meaning(self, asked: Asked):
        """Each sentence's cosine to the question, by the (multilingual) embedding model."""
        query = self.corpus.embed_query(asked.ask)

        def similarity(sentences: list[str]) -> list[float]:
            vectors = self.embedder.embed(sentences)
            return [float(v @ query) for v in vectors]

        return similarity

    @property
    def multilingual(self) -> bool:
        """Whether the embedding model reads other languages than English (e5)."""
        return self.embedder_kind == "e5"

    def ask(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        sources: Sequence[str] | None = None,
    ) -> Answer:
        """Answer a question from the documents (or the named ones), with citations, or refuse."""
        *_, answer = self.ask_stream(question, history, sources)
        return answer

    def ask_stream(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        sources: Sequence[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield pieces of the answer text, then the final Answer."""
        return (x for x in self.events(question, history, sources) if not isinstance(x, Stage))

    def events(
        self,
        question: str,
        history: Sequence[Turn] | None = None,
        sources: Sequence[str] | None = None,
    ) -> Iterator[Stage | str | Answer]:
        """``ask_stream`` with the stages between: searching, then (a model) reading.

        question -> retrieve (and read) -> decide -> answer, each stage one call.
        """
        clock = Clock()
        asked = self.read(question, history)
        chosen = chosen_sources(sources, self.corpus)
        yield Stage("searching")
        if self.llm is not None:
            yield from self._ask_generated(asked, clock, chosen)
            return
        found = self.find(asked, chosen)
        clock.mark("retrieve_ms")
        answer = self.answer(asked, found)
        clock.mark("answer_ms")
        yield answer.reply
        yield self._finished(answer, clock)

    def read(self, question: str, history: Sequence[Turn] | None = None) -> Asked:
        """The question as every later stage reads it: cleaned, resolved, split, its typos read
        as this corpus's words (a clear error for a bad question or a missing index)."""
        asked = read_question(question, history, self.settings.max_question_chars)
        self._require_index()
        return self._spelled(asked)

    def _spelled(self, asked: Asked) -> Asked:
        """The question with its typos read as the documents' words (``qa.question.spelling``)."""
        fix = corrected(asked.standalone, self.corpus.frequencies)
        if fix == asked.standalone:
            return asked
        return replace(asked, standalone=fix, ask=corrected(asked.ask, self.corpus.frequencies))

    def _finished(self, answer: Answer, clock: Clock) -> Answer:
        """The answer with its timings, and its citations' pages pinned to their sentences."""
        return replace(
            answer, timings=clock.timings(), citations=pin_pages(answer.citations, self.original)
        )

    def find(self, asked: Asked, sources: Sequence[str] | None = None) -> Found:
        """The passages for a question, best first (fused retrieval), with the reader's readings."""
        weights = self.question_weights(asked.ask)
        reader = self.reader if self._reads_english(asked) else None
        passages = self.retriever.search(asked.standalone, self.settings.top_k, sources=sources)
        if reader is None:
            return Found(tuple(passages), None, weights)
        return read_passages(reader, _for_reader(asked), passages, weights)

    def answer(self, asked: Asked, found: Found) -> Answer:
        """The extractive answer: the evidence weighed, the outcome decided, the answer quoted."""
        draft, v = self._decide(asked, found)
        refused = v.status == REFUSED
        return Answer(
            question=asked.question,
            text="" if refused else draft.text,
            citations=() if refused else draft.citations,
            status=v.status,
            retrieved=found.passages,
            standalone_question=asked.standalone,
            reason=v.reason,
        )

    def verdict(self, question: str, history: Sequence[Turn] | None = None) -> verdict.Verdict:
        """The outcome a question would have, with its calibrated probabilities (no answer)."""
        asked = self.read(question, history)
        return self._decide(asked, self.find(asked))[1]

    def _decide(self, asked: Asked, found: Found) -> tuple[extract.Draft, verdict.Verdict]:
        weights, passages = found.weights or {}, list(found.passages)
        other = self.multilingual and not self._reads_english(asked)  # read by meaning
        meaning = self._meaning(asked) if other else None
        reader = self.reader if found.readings is not None else None  # it read the passages
        question = _for_reader(asked)
        draft = extract.draft(
            asked.ask, passages, weights, self.settings.answer_sentences, spans=found.spans,
            meaning=meaning, spot=partial(spot, reader, question) if reader else None,
        )  # fmt: skip
        # the reader's reading of the answer as quoted: does what the user reads answer?
        text = strip_markers(draft.text)
        quoted = reread(reader, question, text) if reader else None
        shape = shape_of(asked.question, text, settled=draft.verdict is not None)
        signals = (found.relevance, found.margin, quoted, found.gap, shape)
        evidence = weigh(passages, weights, draft.sentence, *signals) if passages else None
        reads = verdict.reads(asked.language, self.multilingual)
        return draft, verdict.decide(evidence, self.calibration(asked), asked, reads)

    def _ask_generated(
        self, asked: Asked, clock: Clock, sources: Sequence[str] | None = None
    ) -> Iterator[Stage | str | Answer]:
        """The model writes the answer; any model fault falls back to the extractive answer.

        Only clear misses are refused before the model (the extractive decision's refusals); a
        borderline question goes to it with its passages (the prompt lets it say that they do
        not answer).
        """
        from qa.answer import generate
        from qa.question import condense

        fault: LLMError | None = None
        # One deadline for the model calls of this answer, from the first request on (None: the
        # answer's request starts it): a stuck or trickling server holds it no longer than that.
        deadline = None
        if self.settings.llm_condense and any(t.get("role") == "user" for t in asked.history):
            deadline = _call_deadline(self.llm)
            try:
                rewritten = condense.condense(
                    self.llm, asked.question, asked.history, self.settings, deadline
                )
                if rewritten:
                    asked = replace(asked, standalone=rewritten, ask=split(rewritten).ask)
            except LLMAuthError:
                raise
            except LLMError as exc:
                fault = exc
            clock.mark("condense_ms")
        found = self.find(asked, sources)
        clock.mark("retrieve_ms")
        fallback = self.answer(asked, found)
        answer, shown, usage = None, False, {}
        passages = list(found.passages)
        if fault is None and fallback.status != REFUSED:
            try:
                for item in generate.generate_stream(
                    self.llm, asked.standalone, passages, self.embedder,
                    self.corpus.weights, self.settings, deadline, usage,
                ):  # fmt: skip
                    if isinstance(item, generate.Checked):
                        answer = self._generated_answer(item, asked, passages)
                        answer = replace(answer, usage=dict(usage))
                    elif isinstance(item, Stage):
                        yield item
                    else:
                        if not shown:
                            clock.mark("first_token_ms", since_start=True)
                        shown = True
                        yield item
            except LLMAuthError:
                raise
            except LLMError as exc:
                fault, answer = exc, None
        if answer is None:  # refused before asking the model, or the model failed
            answer = fallback
            if fault is not None:
                log.info("model failed, extractive fallback: %s", fault)
                notice = f"{fault} This is the extractive answer instead."
                answer = replace(answer, mode="extractive-fallback", notice=notice)
            else:  # refused before the model: in generated mode, by the model's engine
                answer = replace(answer, mode=self.mode)
            yield ("\n\n" if shown else "") + answer.reply
        clock.mark("answer_ms")
        yield self._finished(answer, clock)

    def _generated_answer(self, checked, asked: Asked, passages) -> Answer:
        # What is unsupported or added is data (Answer.sentences): the surfaces say it, once.
        return Answer(
            question=asked.question,
            text=checked.text,
            citations=checked.citations,
            status=REFUSED if checked.refused else ANSWERED,
            reason=MODEL,
            retrieved=tuple(passages),
            mode=self.mode,
            standalone_question=asked.standalone,
            sentences=checked.sentences,
            read=checked.read,
        )


class Clock:
    """The timings of one answer: each stage's milliseconds and the total."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.marks: dict[str, float] = {}

    def mark(self, name: str, since_start: bool = False) -> None:
        now = time.perf_counter()
        self.marks[name] = ((now - self.start) if since_start else (now - self.last)) * 1000
        if not since_start:
            self.last = now

    def timings(self) -> dict[str, float]:
        return {**self.marks, "total_ms": (time.perf_counter() - self.start) * 1000}


def _for_reader(asked: Asked) -> str:
    """The question as the reader reads it: the ask first (it survives a cut), then its context."""
    return f"{asked.ask} {asked.context}".strip()


def _call_deadline(llm) -> float | None:
    """When the model calls of one answer must be done (None: a model without deadlines)."""
    start = getattr(llm, "call_deadline", None)
    return start() if callable(start) else None


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
