"""Answer only for the host names the app is served on: a guard against DNS rebinding.

A page on a foreign site can point its own host name at 127.0.0.1 and then talk to a local app
as if it were that site. Browsers still send the foreign name in ``Host`` (and ``Origin``), so
the app refuses, with 403, every request whose Host or Origin is not one of its own names.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names requests may carry: loopback, the bound address, this machine when bound to
    every address, and the operator's own (``QA_ALLOWED_HOSTS``; ``*`` allows any)."""
    names = set(LOOPBACK_NAMES)
    bind = bind_host.strip("[]").lower()
    if bind in ANY_ADDRESS:
        names.update(_this_machine())
    else:
        names.add(bind)
    names.update(h.strip().strip("[]").lower() for h in extra if h.strip())
    return frozenset(names)


def _this_machine() -> set[str]:
    names: set[str] = set()
    try:
        hostname = socket.gethostname()
        names.update({hostname.lower(), socket.getfqdn().lower()})
        for info in socket.getaddrinfo(hostname, None):
            names.add(str(info[4][0]).lower())
    except OSError:
        log.debug("cannot list this machine's names", exc_info=True)
    return names


def host_name(value: str) -> str:
    """The host part of a Host header ("example.org:7860", "[::1]:80") in lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def origin_host(origin: str) -> str | None:
    """The host of an Origin header; None for "null" or an unparsable one."""
    if not origin or origin == "null":
        return None
    try:
        return (urlsplit(origin).hostname or "").lower() or None
    except ValueError:
        return None


class HostGuard:
    """ASGI middleware: 403 for any request whose Host or Origin names a foreign host."""

    def __init__(self, app, hosts: Iterable[str]):
        self.app = app
        self.hosts = frozenset(hosts)
        self.any = "*" in self.hosts

    def allows(self, host: str | None, origin: str | None) -> bool:
        """Whether a request with these Host and Origin header values may be served."""
        if self.any:
            return True
        if not host or host_name(host) not in self.hosts:
            return False
        if origin is None or origin == "null":
            return True
        name = origin_host(origin)
        return name is not None and name in self.hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.allows(headers.get("host"), headers.get("origin")):
            return await self.app(scope, receive, send)
        log.warning(
            "refused a request for host %r (origin %r)", headers.get("host"), headers.get("origin")
        )
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        body = (
            b"Forbidden: this app answers only for its own host names. If you reach it under "
            b"another name, add that name to QA_ALLOWED_HOSTS.\n"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
