"""The host guard's rules (the served app is tested against it in the web and API tests)."""

from __future__ import annotations

import asyncio

import reliability

from qa.http.hosts import HostGuard, allowed_hosts, host_name, is_loopback, origin_host


def test_loopback_and_bound_names_are_allowed_and_foreign_ones_not():
    hosts = allowed_hosts("127.0.0.1", ["chat.example.org"])
    guard = HostGuard(None, hosts)
    assert guard.allows("127.0.0.1:7860", None)
    assert guard.allows("localhost:7860", "http://localhost:7860")
    assert guard.allows("[::1]:7860", "http://[::1]:7860")
    assert guard.allows("Chat.Example.org", "https://chat.example.org")
    assert not guard.allows("evil.example:7860", None)
    assert not guard.allows("127.0.0.1:7860", "http://evil.example:7860")
    assert not guard.allows(None, None)
    assert HostGuard(None, {"*"}).allows("evil.example", "http://evil.example")


def test_header_parsing():
    assert host_name("Example.org:7860") == "example.org"
    assert host_name("[::1]:80") == "::1"
    assert host_name("::1") == "::1"
    assert origin_host("http://a.b:1") == "a.b" and origin_host("null") is None
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and not is_loopback("10.0.0.1")


def test_refused_request_gets_403_and_never_reaches_the_app():
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    sent = []

    async def send(message):
        sent.append(message)

    guard = HostGuard(app, allowed_hosts("127.0.0.1"))
    scope = {"type": "http", "path": "/", "headers": [(b"host", b"evil.example:7860")]}
    asyncio.run(guard(scope, None, send))
    assert not reached and sent[0]["status"] == 403
    ok = {"type": "http", "path": "/ok", "headers": [(b"host", b"127.0.0.1:7860")]}
    asyncio.run(guard(ok, None, send))
    assert reached == ["/ok"]


def test_only_the_apps_own_origins_pass():
    """Issue 27, case 9: ``Origin: null`` (a sandboxed iframe, a file:// page) and pages on
    other local ports are not the app: a port is part of an origin."""
    guard = HostGuard(None, allowed_hosts("127.0.0.1", ["chat.example.org"]), ["chat.example.org"])
    assert not guard.allows("127.0.0.1:7860", "null")
    assert not guard.allows("localhost:7860", "http://localhost:9999")
    assert not guard.allows("127.0.0.1:7860", "http://127.0.0.1:7861")
    assert not guard.allows("127.0.0.1:7860", "http://127.0.0.1")  # port 80 is not 7860
    assert not guard.allows("localhost", "http://localhost:8080")
    assert not guard.allows("127.0.0.1:7860", "http://127.0.0.1:notaport")
    assert not guard.allows("127.0.0.1:7860", "file://")
    # The app's own origins: its names on the port the browser reached it on.
    assert guard.allows("localhost:7860", "http://localhost:7860")
    assert guard.allows("localhost:7860", "http://127.0.0.1:7860")
    assert guard.allows("localhost", "http://localhost")
    assert guard.allows("127.0.0.1:443", "https://127.0.0.1")
    # A name the operator added is the app behind a proxy: any port of it.
    assert guard.allows("127.0.0.1:7860", "https://chat.example.org")
    assert guard.allows("chat.example.org", "https://chat.example.org:8443")
    assert not guard.allows("chat.example.org", "https://evil.example")
    assert HostGuard(None, {"*"}).allows("evil.example", "null")
    reliability.case("issue 27.9: Origin null or another local port", True, 7)


def test_a_refused_preflight_grants_nothing():
    sent = []

    async def app(scope, receive, send):  # what Gradio's CORS would answer: all granted
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"access-control-allow-origin", dict(scope["headers"])[b"origin"]),
            (b"access-control-allow-credentials", b"true")]})  # fmt: skip

    async def send(message):
        sent.append(message)

    guard = HostGuard(app, allowed_hosts("127.0.0.1"))
    for origin in (b"http://localhost:9999", b"null"):
        sent.clear()
        headers = [(b"host", b"127.0.0.1:7860"), (b"origin", origin),
                   (b"access-control-request-method", b"POST")]  # fmt: skip
        asyncio.run(guard({"type": "http", "method": "OPTIONS", "path": "/", "headers": headers}, None, send))  # fmt: skip
        assert sent[0]["status"] == 403
        assert not any(k.startswith(b"access-control") for k, _ in sent[0]["headers"])
