"""A replicated qa-chat on this machine: `chroma run`, app replicas, nginx in front.

    python deploy/deploy.py start            # Chroma server, shared index of seeds/, 2 replicas, nginx
    python deploy/deploy.py status
    python deploy/deploy.py load             # 20 clients for 60 s through nginx, with an ingest
                                             # and an upload during the run (deploy/loadtest.py)
    python deploy/deploy.py stop

Everything listens on 127.0.0.1. Each replica has its own store folder (keyword index) and
documents folder, as on separate machines; they share only the Chroma server. State (pids,
ports, logs) is kept in the run folder (default deploy/run/).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# In place of deploy/ itself, whose deploy.py would hide the deploy package (deploy.procs).
sys.path[0] = str(ROOT)

from deploy.procs import wait_http  # noqa: E402
from index.offline import quiet  # noqa: E402

TEMPLATE = Path(__file__).with_name("nginx.conf")


def _exe(name: str, hint: str) -> str:
    found = shutil.which(name) or (Path(sys.executable).parent / name)
    if not Path(found).exists():
        sys.exit(f"error: {name} is not installed. {hint}")
    return str(found)


def _spawn(cmd: list[str], log: Path, env: dict | None = None) -> int:
    """Start a process in its own session (it outlives this script); returns its pid."""
    with log.open("a") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    return proc.pid


def _env(state: dict, **extra) -> dict:
    env = quiet(dict(os.environ))
    env.update(QA_CHROMA_URL=state["chroma"], QA_COLLECTION=state["collection"], **extra)
    return env


def start(args: argparse.Namespace) -> int:
    run = Path(args.run).resolve()
    if (run / "state.json").exists():
        sys.exit(f"error: a deployment is already running from {run}; stop it first")
    nginx = _exe("nginx", "Install it with: apt-get install nginx-light")
    chroma = _exe("chroma", "Install the project first: pip install -e .")
    run.mkdir(parents=True, exist_ok=True)
    state = {"run": str(run), "collection": args.collection, "pids": {},
             "chroma": f"http://127.0.0.1:{args.chroma_port}",
             "nginx": f"http://127.0.0.1:{args.port}", "replicas": []}  # fmt: skip
    (run / "state.json").write_text(json.dumps(state, indent=2))
    print(f"Chroma server on {state['chroma']} (data in {run / 'chroma'})", flush=True)
    state["pids"]["chroma"] = _spawn(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(args.chroma_port),
         "--path", str(run / "chroma")], run / "chroma.log", quiet(dict(os.environ)),
    )  # fmt: skip
    _save(state)
    wait_http(f"{state['chroma']}/api/v2/heartbeat", timeout=90)
    print(f"Indexing {args.docs} into collection '{args.collection}' (once, for all replicas)")
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ingest", str(Path(args.docs).resolve())], cwd=ROOT,
        env=_env(state, QA_STORE_DIR=str(run / "operator" / "store")),
    )  # fmt: skip
    if done.returncode:
        stop(args)
        return done.returncode
    print(f"  indexed in {time.perf_counter() - t0:.1f} s")
    for i in range(args.replicas):
        port = args.first_replica_port + i
        home = run / f"replica-{i + 1}"
        shutil.copytree(Path(args.docs), home / "docs", dirs_exist_ok=True)  # its own disk
        pid = _spawn(
            [sys.executable, "app.py", "--port", str(port), "--docs", str(home / "docs"),
             "--store", str(home / "store")],
            run / f"replica-{i + 1}.log", _env(state),
        )  # fmt: skip
        state["pids"][f"replica-{i + 1}"] = pid
        state["replicas"].append(f"http://127.0.0.1:{port}")
        _save(state)
    for url in state["replicas"]:
        wait_http(url + "/", timeout=300)
        print(f"Replica on {url}")
    tmp = Path(tempfile.mkdtemp(prefix="qa-nginx-"))
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / sub).mkdir()
    for p in (tmp, *tmp.iterdir()):
        p.chmod(0o777)  # nginx's workers run as an unprivileged user
    servers = "\n".join(
        f"        server {u.removeprefix('http://')} max_fails=2 fail_timeout=10s;"
        for u in state["replicas"]
    )
    conf = (
        TEMPLATE.read_text()
        .replace("{{RUN}}/nginx-tmp", str(tmp))
        .replace("{{RUN}}", str(run))
        .replace("{{SERVERS}}", servers)
        .replace("{{PORT}}", str(args.port))
    )
    (run / "nginx.conf").write_text(conf)
    state["nginx_tmp"] = str(tmp)
    checked = subprocess.run([nginx, "-t", "-q", "-c", str(run / "nginx.conf"), "-p", str(run)],
                             capture_output=True, text=True)  # fmt: skip
    if checked.returncode:
        print(checked.stderr, file=sys.stderr)
        stop(args)
        return 1
    subprocess.run([nginx, "-c", str(run / "nginx.conf"), "-p", str(run)], check=True)
    state["pids"]["nginx"] = int((run / "nginx.pid").read_text())
    _save(state)
    wait_http(state["nginx"] + "/", timeout=60)
    print(
        f"nginx on {state['nginx']}: open it in a browser; stop with: python deploy/deploy.py stop"
    )
    return 0


def _save(state: dict) -> None:
    (Path(state["run"]) / "state.json").write_text(json.dumps(state, indent=2))


def _state(args: argparse.Namespace) -> dict | None:
    path = Path(args.run).resolve() / "state.json"
    return json.loads(path.read_text()) if path.exists() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def stop(args: argparse.Namespace) -> int:
    state = _state(args)
    if state is None:
        print("nothing is running")
        return 0
    for name, pid in reversed(list(state["pids"].items())):
        if not _alive(pid):
            continue
        try:  # each was started in a session of its own: its helpers go with it
            os.killpg(pid, signal.SIGTERM) if name != "nginx" else os.kill(pid, signal.SIGQUIT)
        except OSError:
            continue
        deadline = time.monotonic() + 20
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        print(f"stopped {name}")
    if state.get("nginx_tmp"):
        shutil.rmtree(state["nginx_tmp"], ignore_errors=True)
    (Path(state["run"]) / "state.json").unlink()
    return 0


def status(args: argparse.Namespace) -> int:
    state = _state(args)
    if state is None:
        print("nothing is running")
        return 1
    for name, pid in state["pids"].items():
        print(f"{name:<12} pid {pid:<8} {'running' if _alive(pid) else 'NOT RUNNING'}")
    print(
        f"nginx: {state['nginx']}  replicas: {' '.join(state['replicas'])}  chroma: {state['chroma']}"
    )
    return 0


def load(args: argparse.Namespace) -> int:
    state = _state(args)
    if state is None:
        sys.exit("error: nothing is running; start it first: python deploy/deploy.py start")
    cmd = [sys.executable, str(Path(__file__).with_name("loadtest.py")), "--url", state["nginx"],
           "--replicas", *state["replicas"], "--chroma", state["chroma"],
           "--collection", state["collection"], "--clients", str(args.clients),
           "--seconds", str(args.seconds), "--work", str(Path(state["run"]) / "load"),
           "--out", str(Path(state["run"]) / "load.json")]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT).returncode


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["start", "stop", "status", "load"])
    p.add_argument("--run", default=str(ROOT / "deploy" / "run"), help="state and logs folder")
    p.add_argument("--docs", default=str(ROOT / "seeds"), help="the shared corpus (start)")
    p.add_argument("--collection", default="documents")
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--port", type=int, default=8080, help="nginx's port")
    p.add_argument("--chroma-port", type=int, default=8000)
    p.add_argument("--first-replica-port", type=int, default=7861)
    p.add_argument("--clients", type=int, default=20, help="load: concurrent clients")
    p.add_argument("--seconds", type=float, default=60, help="load: how long")
    args = p.parse_args(argv)
    return {"start": start, "stop": stop, "status": status, "load": load}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
