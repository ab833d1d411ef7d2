"""The collections of one index, named in one place.

Beside the collection of chunks (``QA_COLLECTION``) live two side collections, in the same
Chroma (embedded folder or server), so that every process and every replica sees them:

- ``<collection>__qa``: the bookkeeping (``index.ledger``): writer leases, the change feed,
  removals, documents replicas added;
- ``<collection>__files``: indexed files' own bytes (``index.originals``), on a Chroma server.
"""

from __future__ import annotations

import hashlib

LEDGER_SUFFIX = "__qa"
FILES_SUFFIX = "__files"


def ledger_name(collection: str) -> str:
    """The bookkeeping collection of a collection."""
    return collection + LEDGER_SUFFIX


def files_name(collection: str) -> str:
    """The collection that holds a collection's files."""
    return collection + FILES_SUFFIX


def side_names(collection: str) -> list[str]:
    """A collection with its bookkeeping and file collections (what a health check looks at)."""
    return [collection, ledger_name(collection), files_name(collection)]


def source_key(source: str) -> str:
    """The key a document's records carry in the side collections (the source's SHA-1)."""
    return hashlib.sha1(source.encode()).hexdigest()
