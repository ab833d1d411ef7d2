"""Dropping a collection to index it afresh, even when its store is too damaged to open."""

from __future__ import annotations

from index.backends import backend_for
from index.config import StoreConfig
from index.store import Store, open_store


def reset_store(
    config: StoreConfig, model: str, dim: int, store: Store | None = None
) -> tuple[Store, str]:
    """Drop the collection to index it afresh, under the writer lock: the store, open and
    empty (``store`` itself when given), and what was done in words.

    An embedded store too damaged to open is moved aside whole (other collections in the same
    folder go with it; nothing is deleted). The bookkeeping collection keeps its leases,
    removals and replicas' additions, and loses its change feed, since generations start again.
    """
    backend = store.backend if store is not None else backend_for(config)
    moved = backend.set_aside()
    if moved is None:
        if store is not None:
            store.recreate()  # a store deleted under it is made again: a rebuild was asked for
        store = store or open_store(config, model, dim)
        with store.write_lock():
            store.drop()
        note = f"Dropped collection '{config.collection}' to index it afresh."
    else:
        note = moved
    if store is None:
        return open_store(config, model, dim), note
    store.recreate()
    return store, note
