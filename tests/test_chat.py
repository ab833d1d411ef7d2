"""``qa chat`` in a real pseudo-terminal (issue 26): follow-ups, sources by title, /sources N,
/docs, Ctrl-C stops an answer but not the chat, Ctrl-D ends it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from conftest import ROOT, SEEDS

SEED = next(SEEDS.glob("*.txt"))
PROMPT = "\n> "


class Terminal:
    """``qa chat`` on a pseudo-terminal that is its controlling terminal (so Ctrl-C and Ctrl-D
    reach it as they would from a keyboard)."""

    def __init__(self, args: list[str], env: dict):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))

        def controlling():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "chat", *args], stdin=slave, stdout=slave,
            stderr=slave, env=env, cwd=ROOT, preexec_fn=controlling,
        )  # fmt: skip
        os.close(slave)
        self.master = master
        self.seen = ""

    def read_until(self, marker: str, timeout: float = 120) -> str:
        """Everything drawn until ``marker`` appears (after what was read before)."""
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while marker not in self.seen[start:]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker!r} within {timeout} s:\n{self.seen[-3000:]}")
            ready, _, _ = select.select([self.master], [], [], min(left, 1))
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"the chat ended before {marker!r}:\n{self.seen[-3000:]}")
                self.seen += data.decode("utf-8", "replace").replace("\r\n", "\n")
        return self.seen[start:]

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> int:
        try:
            return self.proc.wait(60)
        finally:
            os.close(self.master)


@pytest.fixture
def env(seed_store):
    e = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    e.update(PYTHONPATH=str(ROOT), QA_STORE_DIR=str(seed_store.store_dir))
    return e


def _answer(term: Terminal, question: str) -> str:
    term.type(question + "\r")
    return term.read_until(PROMPT)


def test_a_conversation_in_the_terminal(env):
    term = Terminal([], env)
    try:
        term.read_until(PROMPT)
        first = _answer(term, "Who is the State Department spokesman?")
        assert "Ned Price" in first and "[1]" in first
        assert re.search(r"^  \[1\] .+$", first, re.MULTILINE)  # the source, by title
        follow = _answer(term, "What did he say in the statement?")
        assert "[1]" in follow and "Price" in follow  # "he" is the spokesman

        passage = _answer(term, "/sources 1")
        assert SEED.name in passage and "characters" in passage
        body = [
            ln for ln in passage.splitlines() if ln.startswith("    ") and "characters" not in ln
        ]
        words = re.findall(r"\w{6,}", " ".join(body))
        assert len(words) > 20 and all(w in SEED.read_text(encoding="utf-8") for w in words)
        assert "from 1 to" in _answer(term, "/sources 99")
        assert SEED.name in _answer(term, "/docs")
        assert "Unknown command" in _answer(term, "/nonsense")

        # Ctrl-C at the prompt, after some typing: the chat goes on. The keys come as from a
        # keyboard, the Ctrl-C a moment after the text: CPython's readline checks for a signal
        # only when its wait for a key is interrupted, so a Ctrl-C landing in the microseconds
        # it spends taking in a key is seen only at the next key (a race no typist can hit).
        term.type("half a question")
        term.read_until("half a question")  # echoed: readline has taken the text in
        time.sleep(0.3)
        term.type("\x03")
        term.read_until("/quit ends the chat)\n> ")
        assert "Ned Price" in _answer(term, "Who is the State Department spokesman?")
        term.type("\x04")  # Ctrl-D
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    assert "Traceback" not in term.seen


@pytest.mark.llm
def test_ctrl_c_stops_a_generated_answer_not_the_chat(env, llm_server):
    env = {**env, "OPENAI_BASE_URL": llm_server, "QA_LLM_MAX_TOKENS": "400",
           "QA_LLM_CONTEXT_TOKENS": "2048"}  # fmt: skip
    term = Terminal([], env)
    try:
        term.read_until("/help.\n> ")
        term.type("What did Wang call the US response?\r")
        time.sleep(1.5)  # the model is writing (a few tokens a second here)
        term.type("\x03")
        stopped = term.read_until("something else)\n> ")
        assert "(stopped" in stopped and "Traceback" not in stopped
        term.type("/docs\r")
        assert SEED.name in term.read_until(PROMPT)  # the chat goes on
        term.type("/quit\r")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
