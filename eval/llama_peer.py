"""The LlamaIndex peer: its default VectorStoreIndex over Chroma, with our local MiniLM embedding.

Defaults as a new user gets them: ``SimpleDirectoryReader`` (the file path stays in the embedded
text), the default ``SentenceSplitter`` (1024 tokens, overlap 200), a top-10 retriever. Only the
embedding model (ours, so that the comparison is about the pipeline) and the LLM (none: nothing
may call OpenAI) are set explicitly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import PrivateAttr

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _embedding_class():
    from llama_index.core.embeddings import BaseEmbedding

    class MiniLMEmbedding(BaseEmbedding):
        """Our LocalMiniLM as a llama-index embedding (default batch size, like any user's)."""

        _model: Any = PrivateAttr()

        def __init__(self, model: Any, **kw: Any):
            super().__init__(model_name=model.name, **kw)
            self._model = model

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._model.embed([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._model.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._model.embed(texts).tolist()

    return MiniLMEmbedding


def _fingerprint(docs_dir: Path) -> str:
    h = hashlib.sha1()
    for p in sorted(docs_dir.iterdir()):
        h.update(f"{p.name}\0{p.stat().st_size}\0".encode())
    return h.hexdigest()


class LlamaPeer:
    """A llama-index default index over one folder, persisted in its own Chroma folder."""

    def __init__(self, model: Any, root: Path, name: str):
        from llama_index.core import Settings as LISettings
        from llama_index.core.llms import MockLLM

        LISettings.llm = MockLLM()  # never the OpenAI default
        self.embed_model = _embedding_class()(model)
        LISettings.embed_model = self.embed_model
        self.root = Path(root)
        self.name = name
        self.index = None
        self.build_seconds: float | None = None
        self.n_nodes = 0

    def _client(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path = self.root / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )

    def build(self, docs_dir: Path, reuse: bool = True) -> LlamaPeer:
        """Index the folder the default way, or reopen the index built for the same files."""
        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.vector_stores.chroma import ChromaVectorStore

        client = self._client()
        marker = self.root / f"{self.name}.json"
        fp = _fingerprint(docs_dir)
        if reuse and marker.is_file():
            meta = json.loads(marker.read_text())
            col = client.get_or_create_collection(self.name)
            if meta.get("fingerprint") == fp and col.count() == meta.get("nodes"):
                store = ChromaVectorStore(chroma_collection=col)
                self.index = VectorStoreIndex.from_vector_store(store, embed_model=self.embed_model)
                self.n_nodes = col.count()
                self.build_seconds = meta.get("seconds")
                return self
        with contextlib.suppress(Exception):  # there was none
            client.delete_collection(self.name)
        t0 = time.perf_counter()
        col = client.get_or_create_collection(self.name)
        store = ChromaVectorStore(chroma_collection=col)
        # exclude_hidden would drop every file: the folder lives under .qa_store/ (none of the
        # files themselves is hidden, so the documents read are the default ones).
        docs = SimpleDirectoryReader(str(docs_dir), exclude_hidden=False).load_data()
        self.index = VectorStoreIndex.from_documents(
            docs,
            storage_context=StorageContext.from_defaults(vector_store=store),
            embed_model=self.embed_model,
            transformations=[SentenceSplitter()],  # the default: 1024 tokens, overlap 200
        )
        self.build_seconds = time.perf_counter() - t0
        self.n_nodes = col.count()
        marker.write_text(
            json.dumps({"fingerprint": fp, "nodes": self.n_nodes, "seconds": self.build_seconds})
        )
        return self

    def retriever(self, k: int = 10):
        """The default retriever with top-k."""
        return self.index.as_retriever(similarity_top_k=k)


@dataclass(frozen=True)
class PeerHit:
    """A retrieved node as the scorer sees it (``qa.evaluation.scoring.Located``)."""

    source: str
    text: str


def retrieve_hits(retriever, question: str) -> list[PeerHit]:
    """The retrieved nodes (file name and text), best first."""
    return [
        PeerHit(n.node.metadata.get("file_name", ""), n.node.get_content())
        for n in retriever.retrieve(question)
    ]
