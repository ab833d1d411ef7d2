"""Model calls have a total deadline and a reply-size cap (issue 17, item 8).

A real HTTP server on 127.0.0.1 misbehaves as a broken or hostile model server would: it
trickles its body a byte at a time, trickles its headers, or sends 10 MB. Before the fix each
trickle held ``qa ask`` for ever (httpx's timeout bounds one read, and every byte resets it) and
the 10 MB reply became a 10-million-character answer.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from typing import ClassVar

import pytest
import reliability
from conftest import ROOT

from qa.engine import Engine
from qa.errors import LLMError
from qa.llm import http as llm_http
from qa.llm.client import LLM
from qa.settings import Settings
from qa.types import Answer

QUESTION = "Who is the State Department spokesman?"


def tried(name: str) -> None:
    """Count an issue-17 case as tried (held is counted once its assertions pass)."""
    reliability.add("cases_tried", 1, f"model server: {name}")


def held(name: str) -> None:
    reliability.add("cases_held", 1, f"model server: {name}")


TRICKLE_FOR_S = 60.0  # the server gives up by itself after this long (bounded, as tests must be)
BYTE_EVERY_S = 0.25


def _event(text: str, finish: str | None = None) -> bytes:
    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
             "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}  # fmt: skip
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


# Built once, before memory is measured: the server lives in the test's process.
HUGE_JSON = json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                        "choices": [{"index": 0, "finish_reason": "stop", "message": {
                            "role": "assistant", "content": "Ned Price " * 1_000_000}}]}).encode()  # fmt: skip
HUGE_PIECE = _event("Ned Price " * 100)


class Misbehaving(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that misbehaves as ``mode`` says."""

    protocol_version = "HTTP/1.1"
    mode = "trickle-body"
    hits: ClassVar[list[float]] = []

    def do_GET(self):  # GET /v1/models: the model label
        body = json.dumps({"object": "list", "data": [{"id": "trickle-model"}]}).encode()
        self._send(200, "application/json", body)

    def do_POST(self):
        self.hits.append(time.monotonic())
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with contextlib.suppress(OSError):  # the client hung up, as it should
            getattr(self, "mode_" + self.mode.replace("-", "_"))()

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, data: bytes) -> None:
        end = time.monotonic() + TRICKLE_FOR_S
        for i in range(len(data)):
            if time.monotonic() > end:
                return
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(BYTE_EVERY_S)

    def mode_trickle_body(self):
        """Headers at once, then an answer a byte at a time (each read returns within 0.25 s)."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.flush()
        self._trickle(_event("Ned Price is the spokesman [1].") * 50)

    def mode_trickle_headers(self):
        """The status line and headers a byte at a time."""
        head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-padding: "
            + b"a" * 400
            + b"\r\nconnection: close\r\n\r\n"
        )
        self._trickle(head)

    def mode_huge_json(self):
        """A non-streamed reply of 10 MB."""
        self._send(200, "application/json", HUGE_JSON)

    def mode_huge_stream(self):
        """A streamed reply of about 10 MB, as fast as the socket takes it."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        for _ in range(10_000_000 // len(HUGE_PIECE)):
            self.wfile.write(HUGE_PIECE)
        self.wfile.write(_event("", "stop") + b"data: [DONE]\n\n")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def bad_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def _settings(seed_store, url: str, **kw) -> Settings:
    opts = dict(openai_base_url=url, llm_model="m", llm_timeout=1.0, llm_deadline=3.0,
                llm_retries=1, llm_backoff=0.05, llm_condense=False, top_k=3)  # fmt: skip
    return Settings(**{**seed_store.model_dump(), **opts, **kw})


def _ask_within(engine: Engine, seconds: float) -> tuple[Answer, float]:
    """Ask in a thread; fail (instead of hanging the suite) if it is not back in time."""
    out: list = []
    t0 = time.monotonic()
    worker = threading.Thread(target=lambda: out.append(engine.ask(QUESTION)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"the answer was still waiting on the model after {seconds} s"
    return out[0], time.monotonic() - t0


@pytest.mark.parametrize("mode", ["trickle-body", "trickle-headers"])
def test_a_trickling_server_cannot_hold_an_answer_past_the_deadline(seed_store, bad_server, mode):
    Misbehaving.mode, Misbehaving.hits = mode, []
    tried(mode)
    engine = Engine(_settings(seed_store, bad_server))
    answer, _ = _ask_within(engine, 30)
    deadline = engine.settings.llm_deadline
    # Retrieval is not the model's time: what follows it is bounded by the deadline.
    assert answer.timings["answer_ms"] < (deadline + 1.5) * 1000, f"{mode}: {answer.timings}"
    assert answer.mode == "extractive-fallback" and answer.citations
    assert "Ned Price" in answer.text
    if mode == "trickle-body":  # the deadline passed: no second try
        assert "did not finish within 3 s" in answer.notice and "QA_LLM_DEADLINE" in answer.notice
        assert len(Misbehaving.hits) == 1
    else:  # headers not in within QA_LLM_TIMEOUT: retried while the deadline allows
        assert "did not answer within 1 s" in answer.notice, answer.notice
        assert len(Misbehaving.hits) == 2
    assert "\n" not in answer.notice
    reliability.add("faults_injected", len(Misbehaving.hits), f"model server: {mode}")
    held(mode)


def test_qa_ask_with_a_trickling_server_ends_by_the_deadline(seed_store, bad_server):
    """The case as reported: `qa ask` with QA_LLM_TIMEOUT=5 QA_LLM_RETRIES=1 ran for ever."""
    Misbehaving.mode, Misbehaving.hits = "trickle-body", []
    tried("trickle-body, qa ask")
    env = {**os.environ, "OPENAI_BASE_URL": bad_server, "QA_LLM_TIMEOUT": "5",
           "QA_LLM_RETRIES": "1", "QA_LLM_DEADLINE": "4", "QA_LLM_CONDENSE": "false"}  # fmt: skip
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "qa.cli", "ask", "--store", str(seed_store.store_dir), QUESTION]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("qa ask was still waiting on the model server after 60 s")
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    assert "did not finish within 4 s" in proc.stdout and "Ned Price" in proc.stdout
    assert "extractive-fallback" in proc.stdout
    # The model label came from the server (GET /v1/models): no QA_LLM_MODEL was set.
    assert Misbehaving.hits, "the model server was never asked"
    reliability.add("faults_injected", 1, "model server: trickled body, qa ask process")
    reliability.note(f"qa ask against a trickling model server (deadline 4 s): {elapsed:.1f} s")
    held("trickle-body, qa ask")


@pytest.mark.parametrize(
    ("mode", "limit"),
    [("huge-json", "QA_LLM_MAX_REPLY_BYTES"), ("huge-stream", "QA_LLM_MAX_TOKENS")],
)
def test_a_huge_reply_is_cut_off_not_kept(seed_store, bad_server, mode, limit):
    Misbehaving.mode, Misbehaving.hits = mode, []
    tried(f"{mode} (10 MB)")
    settings = _settings(seed_store, bad_server, llm_deadline=30.0, llm_timeout=10.0)
    tracemalloc.start()
    try:
        if mode == "huge-json":
            with pytest.raises(LLMError, match="over 2,000,000 bytes"):
                LLM(settings).complete([{"role": "user", "content": "hi"}])
        answer, _ = _ask_within(Engine(settings), 40)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.mode == "extractive-fallback" and limit in answer.notice, answer.notice
    assert len(answer.text) < 10_000
    assert peak < 30_000_000, f"{peak:,} bytes traced while refusing a 10 MB reply"
    reliability.add("faults_injected", len(Misbehaving.hits), f"model server: {mode} (10 MB)")
    held(f"{mode} (10 MB)")


def test_connections_carry_their_call_limits():
    """The unit beneath: a server that never answers is cut at the deadline, not per read."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = llm_http.limited_client(timeout=30.0)
        t0 = time.monotonic()
        call = llm_http.CallLimits(time.monotonic() + 1.0, first_byte=30.0, max_bytes=10_000)
        with llm_http.limits(call), pytest.raises(llm_http.DeadlineExceeded):
            client.get(f"http://127.0.0.1:{port}/")
        assert time.monotonic() - t0 < 3
        client.close()
