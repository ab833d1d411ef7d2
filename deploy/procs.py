"""Local helper processes (Chroma server, llama.cpp server, app replicas) for deploy/, the tests and
the benchmarks: free ports, waiting for a server, stopping it. The product itself starts none."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_http(
    url: str,
    timeout: float = 60.0,
    proc: subprocess.Popen | None = None,
    accept_http_errors: bool = False,
) -> None:
    """Wait until the URL answers (any HTTP status when ``accept_http_errors``), or raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            if accept_http_errors:  # it answers, e.g. wants a key: it is up
                return
            time.sleep(0.3)
        except Exception:  # not listening yet
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:g} s")


def stop_process(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """Terminate a process and wait for it (kill it if it does not stop within ``grace``)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
