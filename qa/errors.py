"""Errors the user can act on; each message says what to do. Converted to text only at the edges.

The index raises its own (``index/errors.py``); they share the root, so ``except QAError`` at an
edge catches both.
"""

from __future__ import annotations

from index.errors import (
    IndexConfigError,
    IndexingError,
    IndexNotFoundError,
    MissingExtraError,
    ModelMismatchError,
    StoreError,
    StoreLockedError,
)
from index.errors import UserError as QAError

__all__ = [
    "BadQuestionError",
    "ConfigError",
    "IndexConfigError",
    "IndexNotFoundError",
    "IndexingError",
    "LLMAuthError",
    "LLMError",
    "MissingExtraError",
    "ModelMismatchError",
    "PromptError",
    "QAError",
    "StoreError",
    "StoreLockedError",
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
