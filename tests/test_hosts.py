"""The host guard's rules (the served app is tested against it in the web and API tests)."""

from __future__ import annotations

import asyncio

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
