"""HTTP for model calls: a total deadline for each call and a cap on the reply's size, at the socket.

httpx's timeouts bound each read, so a server that trickles a byte every few seconds (in its
headers or its body) would hold a call for ever, and a 10 MB reply would be read whole. Here
every connection carries the limits of the model call that opened it: no read waits past the
call's deadline, the response headers must be in within ``first_byte`` seconds of connecting,
and a reply over ``max_bytes`` stops. Connections are never reused, so a connection's limits are
always its own call's.

A connection opened under a ``Tether`` (``tied(...)``) belongs to one client of the HTTP API:
when that client hangs up, ``Tether.cut()`` shuts the connection at once (the model server
sees it close and stops writing) and no further one opens. A tether may also hold a slot of a
``ModelPool``, taken when its first model connection opens: with none free the call stops
with ``ModelBusy`` before anything is sent.
"""

from __future__ import annotations

import socket
import threading
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import httpcore
import httpx

_HEADERS_END = b"\r\n\r\n"


class DeadlineExceeded(Exception):
    """The call's deadline passed while waiting for the server."""


class ReplyTooLarge(Exception):
    """The server sent more than the call allows."""


class Cancelled(Exception):
    """The client the call was for has gone; its connection was shut."""


class ModelBusy(Exception):
    """Every slot of the model pool is taken; the call was not made."""

    def __init__(self, size: int):
        super().__init__(f"all {size} model slots are in use")
        self.size = size


class ModelPool:
    """At most ``size`` clients have the model working for them at once (thread-safe)."""

    def __init__(self, size: int):
        self.size = size
        self.busy = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Take a slot if one is free."""
        with self._lock:
            if self.busy >= self.size:
                return False
            self.busy += 1
            return True

    def give(self) -> None:
        """Give a slot back."""
        with self._lock:
            self.busy = max(0, self.busy - 1)


class Tether:
    """The model connections of one client: ``cut()`` shuts them all when it hangs up, and
    ``close()`` gives back the pool slot they held once its request is over."""

    def __init__(self, pool: ModelPool | None = None):
        self._pool = pool
        self._lock = threading.Lock()
        self._streams: set[_LimitedStream] = set()
        self._slot = False
        self.is_cut = False

    def admit(self) -> None:
        """A model connection is about to open: Cancelled after a cut, ModelBusy without a slot."""
        with self._lock:
            if self.is_cut:
                raise Cancelled("the client has gone")
            if self._pool is not None and not self._slot:
                if not self._pool.take():
                    raise ModelBusy(self._pool.size)
                self._slot = True

    def attach(self, stream: _LimitedStream) -> None:
        with self._lock:
            self._streams.add(stream)
            cut = self.is_cut
        if cut:
            stream.hang_up()

    def detach(self, stream: _LimitedStream) -> None:
        with self._lock:
            self._streams.discard(stream)

    def cut(self) -> None:
        """The client has gone: shut its model connections now (from any thread)."""
        with self._lock:
            self.is_cut = True
            streams = list(self._streams)
        for stream in streams:
            stream.hang_up()

    def close(self) -> None:
        """The request is over: give the pool slot back."""
        with self._lock:
            slot, self._slot = self._slot, False
        if slot and self._pool is not None:
            self._pool.give()


@dataclass(frozen=True)
class CallLimits:
    """What one model call may take: until when, how soon the headers, how many bytes."""

    deadline: float  # time.monotonic() by which everything must be in
    first_byte: float  # seconds from connecting to the end of the response headers
    max_bytes: int


_current = threading.local()


@contextmanager
def tied(tether: Tether | None) -> Iterator[None]:
    """Model connections opened in this block (by this thread) belong to ``tether``."""
    previous = getattr(_current, "tether", None)
    _current.tether = tether
    try:
        yield
    finally:
        _current.tether = previous


@contextmanager
def limits(call: CallLimits) -> Iterator[None]:
    """Connections opened in this block (by this thread) carry ``call``'s limits."""
    previous = getattr(_current, "limits", None)
    _current.limits = call
    try:
        yield
    finally:
        _current.limits = previous


class _LimitedStream(httpcore.NetworkStream):
    """A connection that checks its call's deadline and byte budget on every read."""

    def __init__(
        self, inner: httpcore.NetworkStream, call: CallLimits, tether: Tether | None = None
    ):
        self._inner = inner
        self._call = call
        self._headers_by = min(call.deadline, time.monotonic() + call.first_byte)
        self._headers_done = False
        self._tail = b""
        self._received = 0
        self._tether = tether
        self._gone = False
        if tether is not None:
            tether.attach(self)

    def hang_up(self) -> None:
        """Shut the connection from another thread: a read blocked on it returns at once."""
        self._gone = True
        sock = self._inner.get_extra_info("socket")
        if sock is not None:
            with suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def _until(self) -> float:
        return self._call.deadline if self._headers_done else self._headers_by

    def _left(self, timeout: float | None) -> float:
        left = self._until() - time.monotonic()
        if left <= 0:
            raise self._expired()
        return left if timeout is None else min(timeout, left)

    def _expired(self) -> Exception:
        if self._until() >= self._call.deadline:
            return DeadlineExceeded("the call's deadline passed")
        # Headers still trickling in after first_byte seconds: an ordinary (retryable) timeout.
        return httpcore.ReadTimeout("the response headers did not arrive in time")

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._gone:
            raise Cancelled("the client has gone")
        wait = self._left(timeout)
        try:
            data = self._inner.read(max_bytes, wait)
        except httpcore.ReadTimeout:
            if time.monotonic() >= self._until() - 0.01:
                raise self._expired() from None
            raise
        except Exception:
            if self._gone:
                raise Cancelled("the client has gone") from None
            raise
        if self._gone:
            raise Cancelled("the client has gone")
        self._received += len(data)
        if self._received > self._call.max_bytes:
            raise ReplyTooLarge(f"{self._call.max_bytes:,} bytes")
        if not self._headers_done:
            seen = self._tail + data
            self._headers_done = _HEADERS_END in seen
            self._tail = seen[-(len(_HEADERS_END) - 1) :]
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        if self._tether is not None:
            self._tether.detach(self)
        self._inner.close()

    def start_tls(
        self,
        ssl_context,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # After a proxy's CONNECT reply, the server's own headers are still to come.
        inner = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout))
        return _LimitedStream(inner, self._call, self._tether)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _LimitedBackend(httpcore.NetworkBackend):
    """Opens connections that carry the limits of the call in progress on this thread."""

    def __init__(self, inner: httpcore.NetworkBackend):
        self._inner = inner

    def _wrap(self, connect, timeout: float | None) -> httpcore.NetworkStream:
        call: CallLimits | None = getattr(_current, "limits", None)
        if call is None:
            return connect(timeout)
        tether: Tether | None = getattr(_current, "tether", None)
        if tether is not None:
            tether.admit()
        left = call.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("no time left to connect")
        inner = connect(left if timeout is None else min(timeout, left))
        return _LimitedStream(inner, call, tether)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return self._wrap(
            lambda t: self._inner.connect_tcp(host, port, t, local_address, socket_options),
            timeout,
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return self._wrap(
            lambda t: self._inner.connect_unix_socket(path, t, socket_options), timeout
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def limited_client(timeout: float) -> httpx.Client:
    """An httpx client whose connections obey ``limits(...)`` (proxies from the environment kept).

    httpx has no public hook for its network layer: the backend of each transport's connection
    pool is swapped here (tests/test_llm_deadlines.py fails if a new httpx moves it).
    """
    client = httpx.Client(
        timeout=timeout,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=0),
        follow_redirects=True,
    )
    for transport in (client._transport, *client._mounts.values()):
        if transport is None:  # a NO_PROXY pattern: no transport of its own
            continue
        pool = getattr(transport, "_pool", None)
        if pool is None or not hasattr(pool, "_network_backend"):
            raise RuntimeError("this httpx version keeps its connection pool elsewhere")
        pool._network_backend = _LimitedBackend(pool._network_backend)
    return client
