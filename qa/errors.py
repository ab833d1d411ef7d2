"""Errors the user can act on; each message says what to do. Converted to text only at the edges."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error this product raises on purpose."""


class ConfigError(QAError):
    """A setting is missing or wrong."""


class MissingExtraError(ConfigError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"{package} is not installed. Install it with: pip install 'qa-chat[{extra}]'"
        )


class IndexNotFoundError(QAError):
    """There is no index (or an empty one) to answer from."""

    def __init__(self, where: str):
        super().__init__(
            f"No documents are indexed in {where}. Build the index first: qa ingest [FOLDER]"
        )


class ModelMismatchError(QAError):
    """The store was built with a different embedding model than the one configured."""

    def __init__(self, collection: str, stored: str, configured: str):
        super().__init__(
            f"Collection '{collection}' was built with embedding model {stored}, but {configured} "
            f"is configured. Rebuild it with: qa ingest --rebuild (or use another --collection)."
        )


class StoreError(QAError):
    """The vector store cannot be reached or used."""


class StoreLockedError(StoreError):
    """Another ingest is writing to the same store."""


class BadQuestionError(QAError):
    """The question cannot be asked as given."""


class LLMError(QAError):
    """The language model could not produce an answer."""


class LLMAuthError(LLMError):
    """The model server rejected the API key."""


class PromptError(QAError):
    """A prompt template is missing or a variable was not supplied."""
