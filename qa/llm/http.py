"""HTTP for model calls: a total deadline for each call and a cap on the reply's size, at the socket.

httpx's timeouts bound each read, so a server that trickles a byte every few seconds (in its
headers or its body) would hold a call for ever, and a 10 MB reply would be read whole. Here
every connection carries the limits of the model call that opened it: no read waits past the
call's deadline, the response headers must be in within ``first_byte`` seconds of connecting,
and a reply over ``max_bytes`` stops. Connections are never reused, so a connection's limits are
always its own call's.
"""

from __future__ import annotations

import threading
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpcore
import httpx

_HEADERS_END = b"\r\n\r\n"


class DeadlineExceeded(Exception):
    """The call's deadline passed while waiting for the server."""


class ReplyTooLarge(Exception):
    """The server sent more than the call allows."""


@dataclass(frozen=True)
class CallLimits:
    """What one model call may take: until when, how soon the headers, how many bytes."""

    deadline: float  # time.monotonic() by which everything must be in
    first_byte: float  # seconds from connecting to the end of the response headers
    max_bytes: int


_current = threading.local()


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

    def __init__(self, inner: httpcore.NetworkStream, call: CallLimits):
        self._inner = inner
        self._call = call
        self._headers_by = min(call.deadline, time.monotonic() + call.first_byte)
        self._headers_done = False
        self._tail = b""
        self._received = 0

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
        wait = self._left(timeout)
        try:
            data = self._inner.read(max_bytes, wait)
        except httpcore.ReadTimeout:
            if time.monotonic() >= self._until() - 0.01:
                raise self._expired() from None
            raise
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
        self._inner.close()

    def start_tls(
        self,
        ssl_context,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # After a proxy's CONNECT reply, the server's own headers are still to come.
        inner = self._inner.start_tls(ssl_context, server_hostname, self._left(timeout))
        return _LimitedStream(inner, self._call)

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
        left = call.deadline - time.monotonic()
        if left <= 0:
            raise DeadlineExceeded("no time left to connect")
        return _LimitedStream(connect(left if timeout is None else min(timeout, left)), call)

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
