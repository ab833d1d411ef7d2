"""Dropping a collection to index it afresh, even when its store is too damaged to open."""

from __future__ import annotations

import logging

from index import chroma, health
from index.config import StoreConfig
from index.errors import StoreCorruptError
from index.ledger import ledger_name
from index.lock import file_lock
from index.store import Store, side_names

log = logging.getLogger(__name__)


def reset_store(config: StoreConfig, model: str, dim: int) -> str:
    """Drop the collection to index it afresh, under the writer lock; says what was done.

    An embedded store too damaged to open is moved aside whole (other collections in the same
    folder go with it; nothing is deleted). The bookkeeping collection keeps its leases and
    removals, and loses its change feed, since generations start again.
    """
    if not config.chroma_url:
        path = chroma.embedded_path(config)
        with file_lock(config):
            try:
                health.check_folder(path, side_names(config.collection))
                client, _ = chroma.connect(config)
            except StoreCorruptError as exc:
                chroma.Clients.forget(path)
                moved = health.move_aside(path)
                return f"{exc} The damaged store was moved aside to {moved}."
            for name in side_names(config.collection):  # nothing of the old one is kept here
                try:
                    client.delete_collection(name)
                except Exception as exc:  # none yet (Chroma says so its own way)
                    log.debug("nothing to drop: %s", exc)
        return f"Dropped collection '{config.collection}' to index it afresh."
    store = Store(config, model, dim)
    with store.write_lock():
        store.call(lambda: store._client.delete_collection(config.collection), write=True)
        old = store.call(lambda: store.side_collection(ledger_name(config.collection)).get(
            where={"kind": "change"}, include=[]))["ids"]  # fmt: skip
        store.ledger.delete(old)
    return f"Dropped collection '{config.collection}' to index it afresh."
