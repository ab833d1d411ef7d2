"""A Chroma server (``QA_CHROMA_URL``): one store shared by replicas on machines that share no disk.

The server is checked once (it must answer Chroma's heartbeat within the deadline), and every
call to it runs under a total deadline: a server that accepts connections and never answers
gives a clear error instead of a hung process. One writer at a time holds a lease kept in the
collection's bookkeeping (``index.lock.ChromaLease``); replicas mark what they add, keep each
indexed file's bytes in ``<collection>__files`` so every replica can show it, and never prune
what another replica added.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from index import chroma
from index.config import StoreConfig
from index.connection import Connection
from index.errors import StoreError
from index.ledger import Ledger
from index.lock import ChromaLease, chroma_lease
from index.originals import Originals

HEARTBEAT = "/api/v2/heartbeat"


def check_server(url: str, timeout: float) -> int:
    """The server's clock (ns) from Chroma's heartbeat, or a StoreError that says what is wrong."""
    import httpx

    try:
        resp = httpx.get(url.rstrip("/") + HEARTBEAT, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise StoreError(
            f"The Chroma server at {url} did not answer within {timeout:.0f} s "
            "(QA_CHROMA_TIMEOUT). Check that it is running and not overloaded. "
            + start_server_hint(url)
        ) from exc
    except (httpx.HTTPError, OSError, ValueError) as exc:
        raise StoreError(
            f"Cannot reach the Chroma server at {url} ({type(exc).__name__}). "
            + start_server_hint(url)
        ) from exc
    try:
        return int(resp.json()["nanosecond heartbeat"])
    except (ValueError, KeyError, TypeError):
        # Never the body itself: a web server's HTML page is no message for a terminal.
        kind = resp.headers.get("content-type", "no content type").split(";")[0]
        raise StoreError(
            f"The server at {url} is not a Chroma server (it answered HTTP {resp.status_code}, "
            f"{kind}). Set QA_CHROMA_URL to the address `chroma run` listens on, e.g. "
            "http://127.0.0.1:8000."
        ) from None


def http_client(url: str, timeout: float = 30.0):
    """A client of the Chroma server at ``url``; each request times out after ``timeout``."""
    import chromadb
    import httpx

    check_server(url, timeout)
    u = urlparse(url)

    def make():
        return chromadb.HttpClient(
            host=u.hostname or "127.0.0.1",
            port=u.port or (443 if u.scheme == "https" else 8000),
            ssl=u.scheme == "https",
            settings=chroma.client_settings(),
        )

    client = chroma.run_with_deadline(make, timeout)
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):  # Chroma's own client never times out
        session.timeout = httpx.Timeout(timeout)
    return client


def start_server_hint(url: str) -> str:
    """How to start a Chroma server at ``url``."""
    u = urlparse(url)
    return (
        "Is the server running? Start it with: "
        f"chroma run --host {u.hostname or '127.0.0.1'} --port {u.port or 8000} --path DATA_DIR"
    )


class Server:
    """A Chroma server shared by replicas: calls under a deadline, a lease for the writer."""

    in_memory = False  # the vector index lives in the server: nothing here goes stale
    mirrors_folder = False  # each replica has its own folder: only a removal removes
    read_batch = 10_000  # each call within the deadline
    text_batch = 5_000
    write_batch = 1000  # short writes, so that the lease's renewals (and readers) get a turn

    def __init__(self, config: StoreConfig):
        assert config.chroma_url, "a Chroma server needs its URL"
        self.config = config
        self.url = config.chroma_url
        self.where = self.url
        self.identity = self.url
        self.deadline: float | None = config.timeout
        self._client: Any = None

    # ---- reaching it

    def connect(self, create: bool) -> tuple[Any, int]:
        """A client of the server, once it answered its heartbeat; StoreError with the fix."""
        try:
            self._client = http_client(self.url, self.config.timeout)
        except StoreError:
            raise
        except chroma.DeadlineExceeded as exc:
            raise StoreError(
                f"The Chroma server at {self.where} did not answer within "
                f"{self.config.timeout:.0f} s (QA_CHROMA_TIMEOUT). " + start_server_hint(self.url)
            ) from exc
        except Exception as exc:
            raise StoreError(
                f"Cannot open the Chroma store at {self.where} ({chroma.describe(exc)}). "
                + start_server_hint(self.url)
            ) from exc
        return self._client, 0

    def current(self) -> tuple[Any, int]:
        return self._client, 0

    def reopen(self, epoch: int) -> tuple[Any, int]:
        return self._client, 0  # the same client; the collection is looked up again

    def replaced(self) -> bool:
        return False

    def now(self, client: Any) -> float:
        return client.heartbeat() / 1e9

    def fault(self, exc: Exception, write: bool) -> tuple[StoreError, bool]:
        where, what = self.where, chroma.describe(exc)
        if chroma.disk_full(exc):
            return chroma.disk_full_error(where, what), False
        if chroma.timed_out(exc):
            return StoreError(
                f"The Chroma server at {where} did not answer within {self.config.timeout:.0f} s "
                "(QA_CHROMA_TIMEOUT). Check that it is running and not overloaded, then try "
                "again. " + start_server_hint(where)
            ), True
        if chroma.unreachable(exc):
            return StoreError(
                f"Cannot reach the Chroma server at {where} ({what}). " + start_server_hint(where)
            ), True
        if chroma.index_unready(exc):  # tried again (it may pass); if not, the fix
            return StoreError(
                f"The Chroma server at {where} cannot open the vector index of collection "
                f"'{self.config.collection}' ({what}); Chroma is left so when a write to it is cut "
                "off. Rebuild the collection from your documents: qa ingest --rebuild "
                "(or restart the Chroma server and try again)."
            ), True
        return StoreError(f"The Chroma server at {where} failed: {what}"), False

    # ---- writing

    @contextlib.contextmanager
    def write_lock(self, ledger: Ledger) -> Iterator[ChromaLease]:
        """A lease in the collection's bookkeeping, renewed while held."""
        with chroma_lease(ledger, self.config) as lease:
            yield lease

    def set_aside(self) -> str | None:
        """Nothing to move aside: the server keeps its own files."""
        return None

    # ---- replicas

    def replica_added(self, ledger: Ledger) -> set[str]:
        """Sources replicas added (uploads), which an ingest mirroring a folder must keep."""
        return ledger.added()

    def note_added(self, ledger: Ledger, sources: list[str]) -> None:
        """Mark sources this replica added without mirroring a folder."""
        ledger.mark_added(sources)

    def files(self, connection: Connection) -> Originals:
        """Where indexed files' bytes are kept, for replicas that lack the file."""
        return Originals(connection)
