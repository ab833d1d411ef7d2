"""deploy/: `chroma run`, two replicas and nginx on 127.0.0.1, under a short load with an ingest
and an upload mid-run, exactly as the README runs them (a shorter load). Needs nginx (Debian's
nginx-light); slow, so it runs with ./scripts/test.sh -m slow."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import ROOT

from deploy.procs import free_port


def _two_free_ports() -> int:
    for _ in range(50):
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two neighbouring free ports")


def _deploy(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "deploy/deploy.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_replicas_behind_nginx_serve_a_load_with_an_ingest_and_an_upload(tmp_path):
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed: apt-get install nginx-light (the deployment needs it)")
    run = tmp_path / "run"
    where = ["--run", str(run), "--port", str(free_port()), "--chroma-port", str(free_port()),
             "--first-replica-port", str(_two_free_ports())]  # fmt: skip
    started = _deploy("start", *where)
    try:
        assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-3000:]
        assert _deploy("status", *where).returncode == 0
        load = _deploy("load", *where, "--clients", "4", "--seconds", "20")
        figures = json.loads((run / "load.json").read_text())
        assert load.returncode == 0, (figures, load.stderr[-3000:])
        assert figures["errors"] == 0 and figures["requests_served"] >= 4, figures
        assert figures["correct_answers"] >= 0.8 * figures["requests_served"], figures
        assert figures["ingest_rc"] == 0 and figures["upload_status"], figures
        assert figures["upload_to_answer_on_other_replica_s"] is not None, figures
        assert figures["upload_to_answer_on_other_replica_s"] < 30, figures
    finally:
        stopped = _deploy("stop", *where)
    assert stopped.returncode == 0 and not (run / "state.json").exists(), stopped.stdout
