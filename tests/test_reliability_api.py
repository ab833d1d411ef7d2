"""The HTTP API under slow models and clients that leave (issue 27, cases 3 and 4).

A real ``python app.py`` (page and API) talks to a real slow model server written here: it
waits before it answers, then writes a piece every 0.2 s, and notes when the app shuts the
connection. A client that hangs up must shut the model connection at once; 42 questions on a
model that does not answer must not hold the threads that ``GET /v1/models``, the page and
answers without the model need: past ``QA_LLM_CONCURRENCY`` they get 503 with Retry-After.
"""

from __future__ import annotations

import http.server
import json
import select
import shutil
import socket
import threading
import time
from typing import ClassVar

import httpx
import pytest
import reliability
from conftest import SEEDS
from test_server import QUESTION, running

POOL = 4
CLIENTS = 42


def _delta(text: str, finish: str | None = None) -> bytes:
    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
             "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}  # fmt: skip
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


class SlowModel(http.server.BaseHTTPRequestHandler):
    """An OpenAI-compatible server that waits ``delay`` seconds before its first piece (as a
    busy llama.cpp does), then writes one every 0.2 s for a minute; it notes, per request,
    when it began and when the app shut the connection."""

    protocol_version = "HTTP/1.1"
    delay = 0.0
    began: ClassVar[list[float]] = []
    shut: ClassVar[list[float]] = []
    release = threading.Event()  # answer at once from now on (the test is over)

    def log_message(self, *args):
        pass

    def _gone(self) -> bool:
        """Has the app shut its end? (readable, and nothing to read)"""
        ready, _, _ = select.select([self.connection], [], [], 0)
        try:
            return bool(ready) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _wait(self, seconds: float) -> bool:
        """Wait, watching the connection; False when the app shut it meanwhile."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.release.is_set():
            if self._gone():
                return False
            time.sleep(0.05)
        return not self._gone()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.began.append(time.monotonic())
        try:
            if not self._wait(self.delay):
                raise ConnectionResetError
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for i in range(300):
                self._chunk(_delta(f"Wang Yi{i} "))
                if not self._wait(0.2):
                    raise ConnectionResetError
            self._chunk(_delta("", finish="stop"))
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.shut.append(time.monotonic())
            self.close_connection = True


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``python app.py`` over a copy of seeds/, its model the slow server above."""
    model = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowModel)
    model.daemon_threads = True
    threading.Thread(target=model.serve_forever, daemon=True).start()
    base = tmp_path_factory.mktemp("slow-model-app")
    docs = base / "docs"
    shutil.copytree(SEEDS, docs)
    env = {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{model.server_port}/v1",
        "QA_LLM_MODEL": "m",
        "QA_LLM_RETRIES": "0",
        "QA_LLM_CONCURRENCY": str(POOL),
    }
    try:
        with running(base, ["app.py", "--docs", str(docs)], **env) as app:
            yield app
    finally:
        SlowModel.release.set()
        model.shutdown()


def _reset(delay: float) -> None:
    SlowModel.delay = delay
    SlowModel.began.clear()
    SlowModel.shut.clear()
    SlowModel.release.clear()


def _chat(stream: bool, question: str = QUESTION) -> dict:
    return {"model": "documents", "stream": stream,
            "messages": [{"role": "user", "content": question}]}  # fmt: skip


def _until(check, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


def test_a_client_that_hangs_up_shuts_the_model_connection_at_once(served):
    """A streaming client that left kept its model connection open, unread, for 10+ minutes
    (a llama.cpp slot busy for nobody); a waiting one, until the model answered."""
    _reset(delay=0.0)
    url = f"{served.api}/chat/completions"
    with httpx.Client(timeout=60) as client, client.stream("POST", url, json=_chat(True)) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if "Wang Yi2" in line:  # the model is writing, the client is reading
                break
    left = time.monotonic()
    streamed = _until(lambda: SlowModel.shut, 10) and SlowModel.shut[0] - left
    # Not streaming: the client leaves while the model has not begun to answer.
    _reset(delay=60.0)
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        body = json.dumps(_chat(False)).encode()
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip
        assert _until(lambda: SlowModel.began, 30), "the model was never asked"
    left = time.monotonic()
    waiting = _until(lambda: SlowModel.shut, 10) and SlowModel.shut[0] - left
    reliability.note(f"API client hung up: model connection shut after {streamed or 99:.2f} s "
                     f"(streaming), {waiting or 99:.2f} s (waiting for the model)")  # fmt: skip
    for what, seconds in (("streaming", streamed), ("waiting", waiting)):
        reliability.add("faults_injected", 1, "API client hung up on a model call")
        held = seconds is not False and seconds < 5
        reliability.case("issue 27.3: model call shut when its API client left", held)
        assert held, f"{what}: the model connection was still open 10 s after the client left"
    assert "Traceback" not in served.log.read_text()


def test_slow_model_calls_never_starve_the_server(served):
    """42 questions waiting on a slow model took every API thread: GET /v1/models took 116 s."""
    _reset(delay=60.0)
    statuses: list[tuple[int, str, str]] = []
    done = threading.Event()

    def ask() -> None:
        url = f"{served.api}/chat/completions"
        with httpx.Client(timeout=90) as client, client.stream("POST", url, json=_chat(True)) as r:
            text = r.read().decode() if r.status_code != 200 else ""
            statuses.append((r.status_code, r.headers.get("retry-after", ""), text))
            if r.status_code == 200:
                done.wait(120)

    threads = [threading.Thread(target=ask, daemon=True) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    try:
        _until(lambda: len(statuses) >= CLIENTS - POOL and len(SlowModel.began) >= POOL, 30)
        timings = {}
        for name, method, path, body in (
            ("GET /v1/models", "GET", "/v1/models", None),
            ("the page", "GET", "/", None),
            ("an answer without the model", "POST", "/v1/chat/completions",
             _chat(False, "What is the boiling point of tungsten?")),
        ):  # fmt: skip
            t0 = time.monotonic()
            r = httpx.request(method, f"{served.url}{path}", json=body, timeout=120)
            timings[name] = (time.monotonic() - t0, r)
    finally:
        done.set()
        SlowModel.release.set()
    for t in threads:
        t.join(30)
    busy = [s for s in statuses if s[0] == 503]
    reliability.add("concurrent_requests", CLIENTS, "questions on a model that does not answer")
    reliability.note(f"{CLIENTS} questions on a stuck model, pool {POOL}: {len(busy)} got 503; "
                     + ", ".join(f"{k} {v[0]:.2f} s" for k, v in timings.items()))  # fmt: skip
    for name, (seconds, r) in timings.items():
        held = seconds < 5 and r.status_code == 200
        reliability.case("issue 27.4: served while slow model calls fill the pool", held)
        assert held, (name, f"{seconds:.1f} s", r.status_code, r.text[:200])
    assert timings["an answer without the model"][1].json()["status"] == "refused"
    assert len(statuses) == CLIENTS and len(busy) == CLIENTS - POOL, sorted(s[0] for s in statuses)  # fmt: skip
    for _, retry_after, text in busy:
        assert retry_after.isdigit() and "QA_LLM_CONCURRENCY" in text, (retry_after, text)
    # The slots come back when their clients leave: the next question is answered.
    _reset(delay=0.0)
    SlowModel.release.set()
    r = httpx.post(f"{served.api}/chat/completions", json=_chat(False), timeout=120)
    assert r.status_code == 200 and r.json()["mode"] == "generated:m", r.text[:300]
