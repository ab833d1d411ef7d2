"""Indexing: load documents, chunk them with exact spans, embed, and store them in Chroma.

This is the index's public face: ``qa`` (and anything else above the index) imports from here,
never from the modules inside, except the text helpers (tokens, sentences, word shares).

- ``Corpus``: an opened index (store, keyword index, embedder) that answers and follows;
- ``ingest``: the one way documents get in (``Corpus.ingest`` writes through an open corpus);
- records: ``Document``, ``DocumentInfo``, ``DocumentText``, ``IngestReport``, ``Skipped``,
  ``StoredChunk``; configuration: ``StoreConfig``, ``EmbedConfig``, ``ChunkConfig``,
  ``IngestConfig``; errors: ``UserError`` and the ``IndexingError`` family.
"""

from index.config import MAX_FILE_BYTES, ChunkConfig, EmbedConfig, IngestConfig, StoreConfig
from index.corpus import Corpus
from index.embed import Embedder, make_embedder
from index.errors import (
    IndexConfigError,
    IndexingError,
    IndexNotFoundError,
    MissingExtraError,
    ModelMismatchError,
    StoreCorruptError,
    StoreDeletedError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
    UserError,
)
from index.formats import CONVERT
from index.formats.base import MAX_TEXT_CHARS
from index.formats.pdf import PDFIUM_LOCK
from index.formats.pdf import load_page as load_pdf_page
from index.ingest import Progress, ingest
from index.keyword import KeywordIndex
from index.load import SUPPORTED, FileEntry
from index.load import load as load_file
from index.offline import quiet
from index.store import collection_names, store_identity
from index.stored import StoredChunk
from index.types import Document, DocumentInfo, DocumentText, IngestReport, Skipped

__all__ = [
    "CONVERT",
    "MAX_FILE_BYTES",
    "MAX_TEXT_CHARS",
    "PDFIUM_LOCK",
    "SUPPORTED",
    "ChunkConfig",
    "Corpus",
    "Document",
    "DocumentInfo",
    "DocumentText",
    "EmbedConfig",
    "Embedder",
    "FileEntry",
    "IndexConfigError",
    "IndexNotFoundError",
    "IndexingError",
    "IngestConfig",
    "IngestReport",
    "KeywordIndex",
    "MissingExtraError",
    "ModelMismatchError",
    "Progress",
    "Skipped",
    "StoreConfig",
    "StoreCorruptError",
    "StoreDeletedError",
    "StoreError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "StoredChunk",
    "UserError",
    "collection_names",
    "ingest",
    "load_file",
    "load_pdf_page",
    "make_embedder",
    "quiet",
    "store_identity",
]
