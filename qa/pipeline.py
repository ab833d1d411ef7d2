"""The question-answering pipeline: check the question, retrieve, answer, cite."""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence

from index.embed import make_embedder
from index.ingest import ingest, open_index
from index.types import IngestReport
from qa import extract
from qa.errors import BadQuestionError, IndexNotFoundError, LLMAuthError, LLMError
from qa.llm import make_llm
from qa.retrieve import Retriever
from qa.settings import Settings
from qa.types import Answer, Passage

log = logging.getLogger(__name__)

NOT_IN_DOCUMENTS = "The documents do not answer this question."
RELEVANCE_DENSE_WEIGHT = 0.5  # cosine vs word coverage in Engine.relevance (calibrated)
Turn = dict  # {"role": "user" | "assistant", "content": str}

# Control and bidi-override characters, and lone surrogates (JSON can carry "\ud800"; the
# tokenizer and Chroma refuse them).
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_FOLLOW_UP = re.compile(
    r"^(and|but|also|so|then|what about|how about|and what|what else)\b"
    r"|\b(he|she|it|they|him|her|them|his|hers|its|their|theirs|that|this|those|these|there)\b",
    re.IGNORECASE,
)


def clean_question(question: object, max_chars: int) -> str:
    """The question as text without control characters, or a BadQuestionError that says why."""
    if not isinstance(question, str):
        raise BadQuestionError("The question must be text.")
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", question))
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise BadQuestionError("The question is empty. Type a question about the documents.")
    if len(text) > max_chars:
        raise BadQuestionError(
            f"The question is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it (or raise QA_MAX_QUESTION_CHARS)."
        )
    return text


def clean_history(history: object) -> list[Turn]:
    """The conversation as a list of message dicts, or a BadQuestionError that says the format."""
    if history is None:
        return []
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise BadQuestionError("The history must be a list of {'role': ..., 'content': ...} messages.")
    turns = list(history)
    if not all(isinstance(t, dict) for t in turns):
        raise BadQuestionError(
            "Each history turn must be a {'role': 'user' | 'assistant', 'content': text} dict "
            "(not (question, answer) pairs)."
        )
    return turns


def standalone_question(question: str, history: Sequence[Turn] | None) -> str:
    """Resolve a follow-up against the previous question, without a model.

    A short question that leans on earlier turns ("and who did he meet?") is asked together
    with the previous user question, so that retrieval sees what "he" refers to.
    """
    previous = [t.get("content", "") for t in history or () if t.get("role") == "user"]
    previous = [p for p in previous if isinstance(p, str) and p.strip()]
    if not previous:
        return question
    if len(question.split()) <= 12 and _FOLLOW_UP.search(question):
        return f"{previous[-1].strip()} {question}"
    return question


class Engine:
    """Everything a question needs, loaded once: embedder, store, keyword index, model."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedder = make_embedder(settings)
        store, keyword = open_index(settings, self.embedder)
        self.retriever = Retriever(settings, store, keyword, self.embedder)
        self.llm = make_llm(settings)  # None: extractive answers
        self._lock = threading.Lock()

    def ingest(self, paths=None, progress=None) -> IngestReport:
        """Index documents into this engine's store and make them answerable at once."""
        report = ingest(self.settings, paths, progress=progress, embedder=self.embedder)
        self.retriever.refresh(force=True)
        return report

    def documents(self) -> list[dict]:
        """The indexed files: source, chunk count and whether the stored version is complete."""
        states = self.retriever.store.file_states()
        return [
            {
                "source": src,
                "chunks": sum(st.hashes.values()),
                "status": "indexed" if len(st.hashes) == 1 and sum(st.hashes.values()) == st.n_chunks else "partial",
            }
            for src, st in sorted(states.items())
        ]

    def remove_document(self, source: str) -> None:
        """Drop a document's chunks from the index (the file itself is the caller's business)."""
        store = self.retriever.store
        with store.write_lock():
            store.delete_source(source)
            store.bump_generation()
        self.retriever.refresh(force=True)

    def retrieve(self, question: str, k: int | None = None, mode: str | None = None) -> list[Passage]:
        """The ranked passages for a question."""
        q = clean_question(question, self.settings.max_question_chars)
        self._require_index()
        return self.retriever.search(q, k, mode)

    def _require_index(self) -> None:
        self.retriever.refresh()
        if len(self.retriever) == 0:
            raise IndexNotFoundError(self.retriever.store.where)

    def relevance(self, passages: Sequence[Passage], question: str | None = None) -> float:
        """How well the best passage matches the question, 0-1 (below min_relevance: refuse).

        Per passage, the mean of its cosine similarity to the question and the IDF-weighted
        share of the question's words it contains; calibrated with eval/bench.py on questions
        asked of their own corpus (answerable) and of another one (unanswerable). Without the
        question only the cosine is left, a weaker signal on the same scale.
        """
        if question is None:
            return max((p.dense if p.dense is not None else p.score for p in passages), default=0.0)
        keyword = self.retriever.keyword
        weights = extract.question_weights(question, keyword.idf, keyword.unseen_idf)
        best = 0.0
        for p in passages:
            cover = extract.coverage(weights, p.text)
            cosine = p.dense if p.dense is not None else cover
            best = max(best, RELEVANCE_DENSE_WEIGHT * cosine + (1 - RELEVANCE_DENSE_WEIGHT) * cover)
        return best

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
        vector = self.retriever.embed_query(standalone)
        passages = self.retriever.search(standalone, vector=vector)
        t1 = time.perf_counter()
        answer = self._extractive(q, standalone, vector, passages)
        t2 = time.perf_counter()
        timings = {
            "retrieve_ms": (t1 - t0) * 1000,
            "answer_ms": (t2 - t1) * 1000,
            "total_ms": (t2 - t0) * 1000,
        }
        yield answer.text
        yield Answer(**{**answer.__dict__, "timings": timings})

    def _ask_generated(
        self, q: str, history: Sequence[Turn] | None, t0: float
    ) -> Iterator[str | Answer]:
        """The model writes the answer; any model fault falls back to the extractive answer."""
        from qa import generate

        timings: dict[str, float] = {}
        fault: LLMError | None = None
        standalone = standalone_question(q, history)
        if self.settings.llm_condense and any(t.get("role") == "user" for t in history or ()):
            tc = time.perf_counter()
            try:
                standalone = generate.condense(self.llm, q, history, self.settings) or standalone
            except LLMAuthError:
                raise
            except LLMError as exc:
                fault = exc
            timings["condense_ms"] = (time.perf_counter() - tc) * 1000
        vector = self.retriever.embed_query(standalone)
        passages = self.retriever.search(standalone, vector=vector)
        t1 = time.perf_counter()
        timings["retrieve_ms"] = (t1 - t0) * 1000
        answer, shown = None, False
        relevant = bool(passages) and (
            self.relevance(passages, standalone) >= self.settings.min_relevance
        )
        if fault is None and relevant:
            try:
                for item in generate.generate_stream(
                    self.llm, standalone, passages, self.embedder,
                    self.retriever.keyword.idf, self.settings,
                ):  # fmt: skip
                    if isinstance(item, generate.Checked):
                        answer = self._generated_answer(item, q, standalone, passages)
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
                answer = Answer(
                    **{**answer.__dict__, "mode": "extractive-fallback", "notice": notice}
                )
            yield ("\n\n" if shown else "") + answer.text
        t2 = time.perf_counter()
        timings.update(answer_ms=(t2 - t1) * 1000, total_ms=(t2 - t0) * 1000)
        yield Answer(**{**answer.__dict__, "timings": timings})

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
            refused=checked.refused,
            retrieved=tuple(passages),
            mode=f"generated:{self.llm.model}",
            standalone_question=standalone,
            sentences=checked.sentences,
            notice=notice,
        )

    def _extractive(self, question, standalone, vector, passages) -> Answer:
        base = dict(question=question, retrieved=tuple(passages), standalone_question=standalone)
        if not passages or self.relevance(passages, standalone) < self.settings.min_relevance:
            return Answer(text=NOT_IN_DOCUMENTS, refused=True, **base)
        keyword = self.retriever.keyword
        scored = extract.score_sentences(standalone, passages, keyword.idf, keyword.unseen_idf)
        chosen = extract.choose(scored, self.settings.answer_sentences)
        if not chosen:
            return Answer(text=NOT_IN_DOCUMENTS, refused=True, **base)
        text, citations = extract.compose(chosen)
        return Answer(text=text, citations=citations, **base)


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(settings: Settings | None = None, **options) -> Engine:
    """The engine for these settings, created on first use and reused after."""
    if settings is None:
        settings = Settings(**options)
    elif options:
        # Validated, unlike model_copy(update=...): "5" becomes 5 and a key a SecretStr.
        settings = type(settings)(**{**settings.model_dump(), **options})
    # The JSON masks secrets; two API keys must not share one engine.
    secret = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    key = settings.model_dump_json() + "\0" + secret
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = Engine(settings)
        return _ENGINES[key]


def reset_engines() -> None:
    """Forget loaded engines (after a store was deleted or rebuilt elsewhere)."""
    with _ENGINES_LOCK:
        _ENGINES.clear()
