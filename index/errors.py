"""Errors the index raises on purpose; each message says what to do about it."""

from __future__ import annotations


class UserError(Exception):
    """An error whose message tells the user what to do; edges show it, never a traceback."""


class IndexingError(UserError):
    """Base of every error the index raises on purpose."""


class IndexConfigError(IndexingError):
    """An index setting is missing or wrong."""


class MissingExtraError(IndexConfigError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package} is not installed. Install it with: pip install 'qa-chat[{extra}]'"
        )


class IndexNotFoundError(IndexingError):
    """There is no index (or an empty one) to answer from."""

    def __init__(self, where: str):
        super().__init__(
            f"No documents are indexed in {where}. Build the index first: qa ingest [FOLDER]"
        )


class ModelMismatchError(IndexingError):
    """The store was built with a different embedding model than the one configured."""

    def __init__(self, collection: str, stored: str, configured: str):
        super().__init__(
            f"Collection '{collection}' was built with embedding model {stored}, but {configured} "
            f"is configured. Rebuild it with: qa ingest --rebuild (or use another --collection)."
        )


class StoreError(IndexingError):
    """The vector store cannot be reached or used."""


class StoreDeletedError(StoreError):
    """The store's files were deleted while this process was using them."""

    def __init__(self, where: str):
        super().__init__(
            f"The store at {where} was deleted while this program was using it; nothing was "
            "re-created in its place. Rebuild the index: qa ingest --rebuild (or restart the "
            "app, which indexes the documents folder afresh)."
        )


class StoreReadOnlyError(StoreError):
    """The store folder cannot be written, and the command needs to write."""

    def __init__(self, where: str):
        super().__init__(
            f"The store at {where} is read-only: questions can be asked of it, but indexing "
            "needs to write there. Make the folder writable, or set QA_STORE_DIR to one that is."
        )


class StoreLockedError(StoreError):
    """Another ingest is writing to the same store."""


class StoreCorruptError(StoreError):
    """The store's files are damaged: its records and its vector index disagree, or cannot be read."""

    def __init__(self, where: str, what: str):
        super().__init__(
            f"The store at {where} is damaged ({what}). Rebuild it with: qa ingest --rebuild "
            "(the damaged store is moved aside first; your documents are not touched)."
        )
