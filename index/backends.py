"""Choosing the backend: the one place that asks whether a Chroma server is configured."""

from __future__ import annotations

from index.backend import Backend
from index.chroma_server import Server
from index.config import StoreConfig
from index.embedded import Embedded


def backend_for(config: StoreConfig) -> Backend:
    """A Chroma server when ``chroma_url`` is set, else the embedded store folder."""
    return Server(config) if config.chroma_url else Embedded(config)
