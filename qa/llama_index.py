"""llama-index components over this project's index: a retriever, a query engine, and ingest.

    from qa.llama_index import QAQueryEngine, QARetriever, ingest_documents

- ``QARetriever``: a llama-index ``BaseRetriever``; each ``NodeWithScore`` is one passage, its
  node's metadata carrying ``source``, ``start``/``end`` (the exact span), ``page``/``page_end``
  and ``title``. It plugs into ``RetrieverQueryEngine`` and any other llama-index pipeline.
- ``QAQueryEngine``: answers through any llama-index LLM (or extractively) with this project's
  prompt, ``[n]`` citation check, support check and outcome (``Answer.status``).
- ``ingest_documents``: indexes llama-index ``Document``s (anything a LlamaHub reader reads).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import (
    AsyncStreamingResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms import ChatMessage
from llama_index.core.schema import Document as LlamaDocument
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from index import Document, IngestReport, Skipped
from qa.engine import Engine, get_engine, ingest
from qa.errors import ConfigError, LLMError
from qa.llm.client import Completion
from qa.settings import Settings, with_options
from qa.types import Answer, Citation, Message, Passage, Turn

log = logging.getLogger(__name__)

__all__ = ["QAQueryEngine", "QARetriever", "ingest_documents", "passage_node", "to_documents"]

# Node metadata a language model is not shown (offsets and ranks mean nothing to it).
_HIDDEN_FROM_LLM = ["start", "end", "page_end", "rank", "n"]
_HIDDEN_FROM_EMBED = ["source", "start", "end", "page", "page_end", "rank", "n"]
# Where a LlamaHub reader names a document, in order of preference.
_SOURCE_KEYS = ("source", "file_path", "file_name", "url", "uri")
_TITLE_KEYS = ("title", "document_title")  # else the first line, as for files


def passage_node(passage: Passage, n: int | None = None) -> NodeWithScore:
    """A passage as a llama-index node with its score; ``n`` is the citation number, if cited."""
    metadata = {**passage.where(), "rank": passage.rank}
    if n is not None:
        metadata["n"] = n
    node = TextNode(
        id_=passage.id,
        text=passage.text,
        start_char_idx=passage.start,
        end_char_idx=passage.end,
        metadata=metadata,
        excluded_llm_metadata_keys=list(_HIDDEN_FROM_LLM),
        excluded_embed_metadata_keys=list(_HIDDEN_FROM_EMBED),
    )
    return NodeWithScore(node=node, score=passage.score)


def _engine(engine: Engine | None, settings: Settings | None, options: dict) -> Engine:
    return engine if engine is not None else get_engine(settings, **options)


class QARetriever(BaseRetriever):
    """This project's hybrid retrieval as a llama-index retriever.

    ``k`` passages per query (default ``QA_TOP_K``), ``mode`` hybrid/dense/bm25; ``options``
    override settings, as in ``qa.ask`` (e.g. ``collection="notes"``).
    """

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        k: int | None = None,
        mode: str | None = None,
        settings: Settings | None = None,
        callback_manager: CallbackManager | None = None,
        **options,
    ):
        self.engine = _engine(engine, settings, options)
        self.k, self.mode = k, mode
        super().__init__(callback_manager=callback_manager)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = self.engine.retrieve(query_bundle.query_str, self.k, self.mode)
        return [passage_node(p) for p in passages]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)  # the event loop runs on


class LlamaIndexLLM:
    """A llama-index LLM behind the interface the engine's generated answers use."""

    def __init__(self, llm):
        self.llm = llm
        metadata = getattr(llm, "metadata", None)
        self.model = getattr(metadata, "model_name", None) or type(llm).__name__
        self.where = f"the llama-index LLM {self.model}"

    @staticmethod
    def _messages(messages: Sequence[Message]) -> list[ChatMessage]:
        return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]

    def _failed(self, exc: Exception) -> LLMError:
        log.debug("llama-index LLM failed", exc_info=True)
        text = " ".join(str(exc).split())[:200]
        return LLMError(f"{self.where} failed ({type(exc).__name__}: {text}).")

    def stream(
        self,
        messages: Sequence[Message],
        max_tokens: int | None = None,
        usage: dict | None = None,
    ) -> Iterator[str]:
        """Yield the reply in pieces (``max_tokens`` is the LLM's own setting here; ``usage``
        is left to the caller's count: llama-index LLMs report no common token figures)."""
        started = False
        try:
            for response in self.llm.stream_chat(self._messages(messages)):
                if response.delta:
                    started = True
                    yield response.delta
        except LLMError:
            raise
        except Exception as exc:
            raise self._failed(exc) from exc
        if not started:
            raise LLMError(f"{self.where} returned no answer text.")

    def complete(self, messages: Sequence[Message], max_tokens: int | None = None) -> Completion:
        """The whole reply."""
        try:
            response = self.llm.chat(self._messages(messages))
        except Exception as exc:
            raise self._failed(exc) from exc
        text = response.message.content or ""
        if not text.strip():
            raise LLMError(f"{self.where} returned an empty answer.")
        return Completion(text)


def citation_dict(c: Citation) -> dict:
    """A citation as plain data: number, where (``Passage.where``), the pages in words, text,
    score (unrounded) and its sentences as (start, end) offsets."""
    return {
        "n": c.n,
        **c.passage.where(),
        "pages": c.pages,
        "text": c.text,
        "score": c.score,
        "sentences": [(s.start, s.end) for s in c.sentences],
    }


class QAQueryEngine(BaseQueryEngine):
    """Answers with this project's citations, support check and three-way outcome.

    ``llm``: any llama-index LLM (``OpenAILike``, ``Ollama``...); without one, the configured
    model or the extractive answers. ``Response.response`` is the answer text with ``[n]``
    markers; ``source_nodes`` the cited passages (metadata ``n``); ``metadata`` holds
    ``status`` ("answered" / "uncertain" / "refused"), ``citations``, ``unsupported``,
    ``mode``, ``notice`` and the whole ``answer`` (a ``qa.types.Answer``).

    ``streaming=True``: ``query`` gives llama-index's ``StreamingResponse`` (``aquery`` its
    ``AsyncStreamingResponse``), the text as it is written; once the stream is read, its
    ``source_nodes`` and ``metadata`` hold the same citations as a plain query's.
    """

    def __init__(
        self,
        llm=None,
        *,
        streaming: bool = False,
        engine: Engine | None = None,
        settings: Settings | None = None,
        callback_manager: CallbackManager | None = None,
        **options,
    ):
        base = _engine(engine, settings, options)
        if llm is not None:
            base = Engine(base.settings, base.corpus, llm=LlamaIndexLLM(llm))
        self.engine = base
        self.streaming = streaming
        super().__init__(callback_manager=callback_manager)

    def _get_prompt_modules(self) -> dict:
        return {}  # the prompts are files in prompts/, rendered by qa.answer.prompting

    def ask(self, question: str, history: Sequence[Turn] | None = None) -> Answer:
        """The project's own Answer for a question (with an optional conversation)."""
        return self.engine.ask(question, history)

    def _query(self, query_bundle: QueryBundle) -> Response | StreamingResponse:
        if not self.streaming:
            return to_response(self.ask(query_bundle.query_str))
        pieces = self.engine.ask_stream(query_bundle.query_str)
        first = next(pieces)  # a question refused outright raises here, not mid-stream
        nodes: list[NodeWithScore] = []
        metadata: dict = {}

        def text() -> Iterator[str]:
            for item in itertools.chain([first], pieces):
                if isinstance(item, Answer):
                    _fill(nodes, metadata, item)
                else:
                    yield item

        return StreamingResponse(response_gen=text(), source_nodes=nodes, metadata=metadata)

    async def _aquery(self, query_bundle: QueryBundle) -> Response | AsyncStreamingResponse:
        if not self.streaming:
            return to_response(await asyncio.to_thread(self.ask, query_bundle.query_str))
        pieces = self.engine.ask_stream(query_bundle.query_str)
        first = await asyncio.to_thread(next, pieces)
        nodes: list[NodeWithScore] = []
        metadata: dict = {}

        async def text() -> AsyncIterator[str]:
            item = first
            while item is not _END:
                if isinstance(item, Answer):
                    _fill(nodes, metadata, item)
                else:
                    yield item
                item = await asyncio.to_thread(next, pieces, _END)  # the model's wait, off the loop

        return AsyncStreamingResponse(response_gen=text(), source_nodes=nodes, metadata=metadata)


_END = object()


def _fill(nodes: list[NodeWithScore], metadata: dict, answer: Answer) -> None:
    """A streamed response's cited nodes and metadata, once the answer is whole."""
    done = to_response(answer)
    nodes.extend(done.source_nodes)
    metadata.update(done.metadata)


def to_response(answer: Answer) -> Response:
    """An Answer as a llama-index Response (cited passages as source nodes)."""
    return Response(
        response=answer.reply,
        source_nodes=[passage_node(c.passage, c.n) for c in answer.citations],
        metadata={
            "status": answer.status,
            "citations": [citation_dict(c) for c in answer.citations],
            "unsupported": [s.text for s in answer.unsupported],
            "mode": answer.mode,
            "notice": answer.notice,
            "answer": answer,
        },
    )


# --- ingest ------------------------------------------------------------------------------------


def default_source(doc: LlamaDocument) -> str:
    """A document's source name: its ``source``, ``file_path`` (relative to the current folder
    when inside it), ``file_name``, ``url`` or ``uri`` metadata, else ``doc_id``."""
    meta = doc.metadata or {}
    for key in _SOURCE_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            if key == "file_path":
                path = Path(value)
                try:
                    return path.resolve().relative_to(Path(os.getcwd()).resolve()).as_posix()
                except ValueError:
                    return path.as_posix()
            return value.strip()
    return doc.id_


def _text(doc: LlamaDocument) -> str:
    # Lone surrogates (from a careless decoder) break the tokenizer and Chroma; U+FFFD keeps
    # every offset where it was.
    return doc.get_content().encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _title(parts: Sequence[LlamaDocument], text: str) -> str:
    for key in _TITLE_KEYS:
        value = (parts[0].metadata or {}).get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:200]
    # The first line when it is short enough to be a title, as for files (index/load.py).
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= 120 else ""


def to_documents(
    documents: Iterable[LlamaDocument],
    source: Callable[[LlamaDocument], str] = default_source,
) -> tuple[list[Document], list[Skipped]]:
    """llama-index Documents as this project's, one per source.

    Documents that share a source (a reader's pages of one file) are joined in order, two line
    breaks apart, each one a page; a source given once keeps its text exactly as given.
    """
    groups: dict[str, list[LlamaDocument]] = {}
    for doc in documents:
        if not isinstance(doc, LlamaDocument):
            raise TypeError(f"expected llama-index Documents, got {type(doc).__name__}")
        groups.setdefault(source(doc), []).append(doc)
    out: list[Document] = []
    skipped: list[Skipped] = []
    for name, parts in groups.items():
        texts = [_text(p) for p in parts]
        pages: tuple[int, ...] = ()
        if len(texts) > 1:
            starts, at = [], 0
            for t in texts:
                starts.append(at)
                at += len(t) + 2
            pages = tuple(starts)
        text = "\n\n".join(texts)
        if not text.strip():
            skipped.append(Skipped(name, "no text found"))
            continue
        title = _title(parts, text)
        digest = hashlib.sha256(f"{title}\0{text}\0{pages}".encode("utf-8", "replace"))
        out.append(Document(name, text, "doc:" + digest.hexdigest()[:32], title, pages))
    return out, skipped


def ingest_documents(
    documents: Iterable[LlamaDocument],
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    source: Callable[[LlamaDocument], str] = default_source,
    prune: bool = False,
    progress: Callable[[float, int], None] | None = None,
    **options,
) -> IngestReport:
    """Index llama-index Documents into the configured collection (only new or changed ones).

    Spans of the resulting passages refer to each document's text as given. ``prune`` removes
    the collection's other sources. ``qa ingest`` of a folder removes sources that are not in
    it, so give these documents a collection of their own (``collection="notes"``).
    ``options``: settings fields over ``settings``; with ``engine``, its settings hold (and
    options are refused rather than dropped).
    """
    if engine is not None and options:
        raise ConfigError(
            f"{', '.join(sorted(options))}: with engine= the engine's settings are used; "
            "pass settings or options without engine= instead"
        )
    docs, skipped = to_documents(documents, source)
    if engine is not None:
        report = engine.ingest(documents=docs, prune=prune, progress=progress)
    else:
        settings = with_options(settings, options)
        report = ingest(settings, documents=docs, prune=prune, progress=progress)
    if skipped:
        report = replace(report, skipped=[*report.skipped, *skipped])
    return report
