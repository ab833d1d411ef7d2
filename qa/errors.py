"""Errors the user can act on; each message says what to do. Converted to text only at the edges.

The index raises its own (``index/errors.py``); they share the root, so ``except QAError`` at an
edge catches both.
"""

from __future__ import annotations

from index import (
    IndexConfigError,
    IndexingError,
    IndexNotFoundError,
    MissingExtraError,
    ModelMismatchError,
    StoreError,
    StoreLockedError,
)
from index import UserError as QAError

__all__ = [
    "BadQuestionError",
    "ConfigError",
    "FeedbackError",
    "FolderError",
    "IndexConfigError",
    "IndexNotFoundError",
    "IndexingError",
    "LLMAuthError",
    "LLMError",
    "MissingExtraError",
    "ModelMismatchError",
    "NotIndexedError",
    "PromptError",
    "QAError",
    "StoreError",
    "StoreLockedError",
    "UploadRejected",
]


class ConfigError(QAError):
    """A setting is missing or wrong."""


class BadQuestionError(QAError):
    """The question cannot be asked as given."""


class LLMError(QAError):
    """The language model could not produce an answer."""


class LLMAuthError(LLMError):
    """The model server rejected the API key."""


class PromptError(QAError):
    """A prompt template is missing or a variable was not supplied."""


class FolderError(QAError):
    """A file cannot be saved into or removed from the documents folder."""


class UploadRejected(FolderError):
    """An uploaded file that cannot be added; the message says why and what to do."""


class FeedbackError(QAError):
    """Feedback on an answer cannot be saved or read."""


class NotIndexedError(QAError):
    """A document named by the user is not in the index."""
