"""Answer only for the host names the app is served on: a guard against DNS rebinding.

A page on a foreign site can point its own host name at 127.0.0.1 and then talk to a local app
as if it were that site. Browsers still send the foreign name in ``Host`` (and ``Origin``), so
the app refuses, with 403, every request whose Host or Origin is not one of its own names.

An Origin is the app's own only on the port the browser reached the app on (the Host header's):
a page served by another local program (``http://localhost:9999``) is another site, and so is
``Origin: null`` (a sandboxed iframe, a file:// page). Names the operator adds
(``QA_ALLOWED_HOSTS``) are the app behind a proxy, on whatever port the proxy serves. Refused
requests never reach the app, so no CORS preflight of another origin is granted.
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


def host_port(value: str) -> int | None:
    """The port of a Host header ("example.org:7860" -> 7860), None when it names none."""
    value = value.strip()
    tail = value[value.find("]") + 1 :] if value.startswith("[") else value
    if tail.count(":") != 1:
        return None
    port = tail.rsplit(":", 1)[1]
    return int(port) if port.isdigit() and len(port) <= 5 else None


DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_parts(origin: str) -> tuple[str, int] | None:
    """(host, port) of an Origin header; None for "null", a scheme without a host, or junk."""
    if not origin or origin == "null":
        return None
    try:
        parts = urlsplit(origin.strip())
        name, port = (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number, an unbalanced bracket
        return None
    scheme = parts.scheme.lower()
    if not name or scheme not in DEFAULT_PORTS:
        return None
    return name, port if port is not None else DEFAULT_PORTS[scheme]


def origin_host(origin: str) -> str | None:
    """The host of an Origin header; None for "null" or an unparsable one."""
    parts = origin_parts(origin)
    return parts[0] if parts else None


class HostGuard:
    """ASGI middleware: 403 for any request whose Host or Origin is not the app's own.

    ``any_port``: names (the operator's) whose every port is the app's (it is behind a proxy).
    """

    def __init__(self, app, hosts: Iterable[str], any_port: Iterable[str] = ()):
        self.app = app
        self.hosts = frozenset(hosts)
        self.any_port = frozenset(h.strip().strip("[]").lower() for h in any_port)
        self.any = "*" in self.hosts

    def allows(self, host: str | None, origin: str | None) -> bool:
        """Whether a request with these Host and Origin header values may be served."""
        if self.any:
            return True
        if not host or host_name(host) not in self.hosts:
            return False
        if origin is None:
            return True  # not sent by a browser's cross-site request
        parts = origin_parts(origin)
        if parts is None:
            return False  # "null": a sandboxed frame or a local file, never the app's page
        name, port = parts
        if name not in self.hosts:
            return False
        # A browser names the port it reached the app on; without one, the scheme's own.
        return name in self.any_port or port == (host_port(host) or port_of_scheme(origin))

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


def port_of_scheme(origin: str) -> int:
    """The default port of an Origin's scheme (80 for http)."""
    return DEFAULT_PORTS.get(origin.split(":", 1)[0].strip().lower(), 80)
