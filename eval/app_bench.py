"""Start-up time of ``python app.py`` to a ready page, and its memory with an index loaded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM), of a process and its children, MB."""
    rss = peak = 0
    pids = [pid]
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    pids += [int(p) for p in out.stdout.split()]
    for p in pids:
        try:
            status = dict(
                line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text().splitlines()
            )
        except (OSError, ValueError):
            continue
        rss += int(status.get("VmRSS", "0 kB").split()[0])
        peak += int(status.get("VmHWM", "0 kB").split()[0])
    return rss / 1024, peak / 1024


def start_app(root: Path, docs: Path, store: Path, collection: str, timeout: float = 180.0) -> dict:
    """Seconds from launching ``python app.py`` to the page answering, and RSS once it does."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_COLLECTION=collection, GRADIO_ANALYTICS_ENABLED="False")
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(var, None)
    cmd = [
        sys.executable,
        "app.py",
        "--docs",
        str(docs),
        "--store",
        str(store),
        "--port",
        str(port),
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}/"
    ready = None
    try:
        while time.perf_counter() - t0 < timeout:
            if proc.poll() is not None:
                return {
                    "error": f"app.py exited with {proc.returncode}: {proc.stderr.read()[-500:]}"
                }
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        ready = time.perf_counter() - t0
                        break
            except OSError:
                time.sleep(0.05)
        if ready is None:
            return {"error": f"no page within {timeout:.0f} s"}
        time.sleep(1.0)  # let start-up work that follows the first response settle
        rss, peak = _memory_mb(proc.pid)
        return {"ready_s": ready, "rss_mb": rss, "peak_mb": peak}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def engine_rss(store: Path, collection: str, questions: list[str]) -> dict:
    """RSS of a bare Python process holding the engine after answering the questions."""
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from qa.settings import Settings\n"
        "from qa.engine import Engine\n"
        f"e = Engine(Settings(store_dir=Path({str(store)!r}), collection={collection!r}))\n"
        "for q in json.loads(sys.stdin.read()): e.ask(q)\n"
        "status = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
        "mb = lambda k: int(status[k].split()[0]) / 1024\n"
        "print(json.dumps({'rss_mb': mb('VmRSS'), 'peak_mb': mb('VmHWM')}))\n"
    )
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(var, None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],  # this checkout's code
        input=json.dumps(questions),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        return {"error": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])
