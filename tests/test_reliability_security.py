"""Security: nothing phones home, secrets never show, the web chat stays local, uploads are safe.

The no-network test runs the whole flow (ingest, ask, generated answers from a loopback model
server, eval, the web chat) inside a network namespace that has only loopback (``unshare -n``),
with an audit-hook guard in every Python process that records and refuses any connection or
name lookup that is not loopback. The same run carries an API key and proves it appears in no
output, log, error or page.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
import reliability
from conftest import ROOT, SEEDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from samples import write_docx, write_pdf
from test_reliability_faults import FaultyModel, llm_engine

from index.load import SUPPORTED
from qa.errors import LLMAuthError

SECRET = "sk-reliability-" + "7h1s1s4s3cr3t" * 3

GUARD = r'''
"""Records and refuses every non-loopback connection or name lookup of this Python process."""
import ipaddress, json, os, socket, sys, traceback

_LOG = os.environ.get("QA_NET_GUARD_LOG")
_LOCAL = {None, "", "localhost", "ip6-localhost", "localhost.localdomain"}


def _local(host):
    if isinstance(host, bytes):
        host = host.decode("utf-8", "replace")
    if host in _LOCAL:
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified


def _write(kind, target):
    with open(_LOG, "a") as f:
        f.write(json.dumps({"kind": kind, "target": repr(target), "argv": sys.argv[:3],
                            "stack": traceback.format_stack(limit=12)[:-2]}) + "\n")


def _hook(event, args):
    if event == "socket.connect":
        sock, addr = args
        if sock.family == getattr(socket, "AF_UNIX", None):
            return
        host = addr[0] if isinstance(addr, tuple) else addr
        if _local(host):
            _write("loopback", addr)
            return
        _write("refused-connect", addr)
        raise ConnectionRefusedError(f"network guard: connection to {addr!r} refused")
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        if not _local(args[0]):
            _write("refused-lookup", args[0])
            raise socket.gaierror(socket.EAI_NONAME, f"network guard: lookup of {args[0]!r} refused")
    if event == "socket.sendto":
        addr = args[1]
        host = addr[0] if isinstance(addr, tuple) else addr
        if not _local(host):
            _write("refused-sendto", addr)
            raise ConnectionRefusedError(f"network guard: datagram to {addr!r} refused")


if _LOG:
    sys.addaudithook(_hook)
'''

DRIVER = r'''
"""The whole product, offline: run inside ``unshare -n`` with the guard on PYTHONPATH."""
import http.server, json, os, subprocess, sys, threading, time, urllib.request
from pathlib import Path

sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
from test_reliability_faults import FaultyModel  # a loopback OpenAI-compatible server

work, docs = Path(sys.argv[1]), Path(sys.argv[2])
results = {}
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FaultyModel)
threading.Thread(target=server.serve_forever, daemon=True).start()
model = f"http://127.0.0.1:{server.server_port}/v1"
base = {**os.environ, "QA_STORE_DIR": str(work / "store"), "QA_DOCS_DIR": str(docs)}
llm = {"OPENAI_BASE_URL": model, "OPENAI_API_KEY": os.environ["SECRET"], "QA_LLM_MODEL": "m",
       "QA_LLM_RETRIES": "1", "QA_LLM_BACKOFF": "0.05", "QA_LLM_TIMEOUT": "5"}


def run(name, args, env=None, mode="ok", timeout=400):
    FaultyModel.mode = mode
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, *args], env={**base, **(env or {})}, capture_output=True,
                       text=True, timeout=timeout)
    results[name] = {"rc": p.returncode, "out": p.stdout[-20000:], "err": p.stderr[-20000:],
                     "s": round(time.monotonic() - t0, 1)}


run("ingest", ["-m", "qa.cli", "-v", "ingest"])
run("ask", ["-m", "qa.cli", "-v", "ask", "Who is the State Department spokesman?"])
run("ask-generated", ["-m", "qa.cli", "-v", "ask", "--json", "Who is the State Department spokesman?"], llm)
run("ask-model-500", ["-m", "qa.cli", "-v", "ask", "Who is the State Department spokesman?"], llm, "html")
run("ask-key-rejected", ["-m", "qa.cli", "-v", "ask", "Who is the State Department spokesman?"], llm, "http-401")
run("ask-openai-default", ["-m", "qa.cli", "-v", "ask", "Who is the State Department spokesman?"],
    {"OPENAI_API_KEY": os.environ["SECRET"], "QA_LLM_RETRIES": "0"})  # the real api.openai.com: refused
run("eval", ["-m", "qa.cli", "-v", "eval", "eval/seeds_qa.jsonl", "--limit", "3",
             "--out", str(work / "eval-out")])
outputs = [p.read_text(errors="replace") for p in (work / "eval-out").rglob("*") if p.is_file()]
results["eval-files"] = {"rc": 0, "out": "\n".join(outputs)[-200000:], "err": "", "s": 0}

# The web chat: start it, load the page and its config, see where it listens, stop it.
port = int(sys.argv[3])
log = open(work / "app.log", "w")
app = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "-v"], env={**base, **llm},
                       stdout=log, stderr=subprocess.STDOUT)
page = config = ""
deadline = time.monotonic() + 300
while time.monotonic() < deadline and app.poll() is None:
    try:
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
        config = urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=5).read().decode()
        break
    except Exception:
        time.sleep(0.5)
listen = []
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(table).read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
            listen.append(local.rsplit(":", 1)[0])
app.terminate()
app.wait(30)
log.close()
results["app"] = {"rc": 0 if page else 1, "out": page + config, "err": (work / "app.log").read_text(),
                  "s": 0, "listen": listen}
print(json.dumps(results))
'''


def _in_netns(cmd: list[str], env: dict, timeout: int) -> subprocess.CompletedProcess:
    """Run ``cmd`` in a new network namespace with only loopback up."""
    ip = shutil.which("ip") or "/usr/sbin/ip"
    return subprocess.run(
        ["unshare", "-n", "--", "sh", "-c", f'{ip} link set lo up && exec "$@"', "sh", *cmd],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory):
    """The whole flow once, offline and guarded; yields the results of each step."""
    work = tmp_path_factory.mktemp("offline")
    guard_dir = work / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(GUARD)
    docs = work / "docs"
    shutil.copytree(SEEDS, docs)
    write_pdf(docs / "report.pdf", "The annual rainfall in Tarvos was 812 millimetres.")
    write_docx(docs / "memo.docx", ["The budget meeting moved to Thursday."])
    (docs / "page.html").write_text("<p>The ferry leaves at 7:15 from pier four.</p>")
    netlog = work / "net.jsonl"
    netlog.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "OPENAI_"))}
    env.update(
        PYTHONPATH=os.pathsep.join([str(guard_dir), str(ROOT)]),
        QA_NET_GUARD_LOG=str(netlog),
        SECRET=SECRET,
        GRADIO_TEMP_DIR=str(work / "gradio"),
        PYTHONUNBUFFERED="1",
    )
    # No HF_HUB_OFFLINE or similar crutches: the product itself must not try.
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env.pop(var, None)
    cmd = [sys.executable, "-c", DRIVER, str(work), str(docs), "7861"]
    proc = _in_netns(cmd, env, timeout=1200)
    method = "unshare -n (only loopback) + audit-hook guard"
    if proc.returncode != 0 and "unshare" in proc.stderr:
        pytest.fail(f"cannot make a network namespace (run as root, as CI does): {proc.stderr}")
    assert proc.returncode == 0, proc.stderr[-5000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    records = [json.loads(line) for line in netlog.read_text().splitlines()]
    reliability.note(f"no-network run: {method}")
    return SimpleNamespace(results=results, records=records, work=work)


def test_whole_flow_works_offline_and_never_reaches_out(offline_run):
    r = offline_run.results
    for step in ("ingest", "ask", "ask-generated", "ask-model-500", "eval", "app"):
        assert r[step]["rc"] == 0, (step, r[step]["err"][-3000:])
    assert "Ned Price" in r["ask"]["out"]
    generated = json.loads(r["ask-generated"]["out"])
    assert generated["mode"] == "generated:m" and generated["citations"]
    assert "extractive answer" in r["ask-model-500"]["out"]  # the fallback, with its notice
    assert r["ask-key-rejected"]["rc"] == 1 and "OPENAI_API_KEY" in r["ask-key-rejected"]["err"]
    # Without a base URL the product would call api.openai.com: refused here, it falls back.
    assert r["ask-openai-default"]["rc"] == 0, r["ask-openai-default"]["err"][-3000:]
    assert "extractive answer" in r["ask-openai-default"]["out"]
    assert "qa-question" in r["app"]["out"] or "gradio" in r["app"]["out"].lower()
    for step in r.values():
        assert "Traceback" not in step["out"] + step["err"].split("DEBUG")[0]

    refused = [x for x in offline_run.records if x["kind"].startswith("refused")]
    expected = [x for x in refused if "openai.com" in x["target"]]  # the deliberate one
    unexpected = [x for x in refused if x not in expected]
    assert expected, "the guard saw the deliberate api.openai.com call"
    assert not unexpected, json.dumps(unexpected[:3], indent=1)
    loopback = sum(x["kind"] == "loopback" for x in offline_run.records)
    assert loopback > 0, "the guard recorded nothing: is it installed?"
    reliability.add(
        "faults_injected", len(expected), "deliberate outbound call refused (no network)"
    )
    reliability.add("offline_steps", len(r), "ingest/ask/eval/web chat steps run with no network")
    reliability.lost(len(unexpected), "outbound connections attempted")


def test_web_chat_listens_on_loopback_only(offline_run):
    listen = offline_run.results["app"]["listen"]
    assert listen, "the app was not listening"
    # /proc/net/tcp writes 127.0.0.1 as 0100007F; anything else would be reachable from outside.
    assert set(listen) <= {"0100007F", "00000000000000000000000001000000"}, listen


def test_api_key_never_appears_in_output_logs_or_page(offline_run):
    leaks = [
        (step, where)
        for step, res in offline_run.results.items()
        for where in ("out", "err")
        if SECRET in res[where]
    ]
    for f in offline_run.work.rglob("*"):
        if f.is_file() and f.stat().st_size < 50_000_000 and SECRET.encode() in f.read_bytes():
            leaks.append(("file", str(f.relative_to(offline_run.work))))
    assert not leaks, leaks
    reliability.add(
        "secret_checks", len(offline_run.results) * 2, "outputs searched for the API key"
    )


def test_app_refuses_a_public_address_without_login(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_UI_")}
    for host in ("0.0.0.0", "::", "192.0.2.1"):
        proc = subprocess.run(
            [sys.executable, "app.py", "--host", host, "--docs", str(SEEDS), "--store", str(tmp_path)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "refusing to serve" in proc.stderr and "QA_UI_PASSWORD" in proc.stderr
        assert "Traceback" not in proc.stderr
    reliability.add("faults_injected", 3, "web chat asked to listen on a public address")


def test_secret_not_in_logs_errors_or_reprs(seed_store, caplog):
    """Debug logs, exception chains and reprs of an engine with a key, across model faults."""
    server = _ThreadedModel()
    try:
        texts = []
        with caplog.at_level(logging.DEBUG):
            for mode in ("ok", "html", "truncated-chunked", "http-401"):
                FaultyModel.mode = mode
                engine = llm_engine(seed_store, server.url, openai_api_key=SECRET, llm_retries=1)
                texts += [
                    repr(engine.settings),
                    engine.settings.model_dump_json(),
                    str(engine.settings),
                ]
                try:
                    answer = engine.ask("Who is the State Department spokesman?")
                    texts.append(json.dumps(answer.to_dict()))
                except LLMAuthError as exc:
                    texts += [str(exc), repr(exc)]
                    e: BaseException | None = exc
                    while e is not None:
                        texts.append(repr(e))
                        e = e.__cause__ or e.__context__
            texts += [r.getMessage() for r in caplog.records]
            texts += [logging.Formatter().format(r) for r in caplog.records]
    finally:
        server.stop()
    leaks = [t[:200] for t in texts if SECRET in t]
    assert not leaks, leaks
    reliability.add("secret_checks", len(texts), "log records, errors and reprs searched")


class _ThreadedModel:
    def __init__(self):
        import http.server

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FaultyModel)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def stop(self):
        self.server.shutdown()


# ---- uploads


@pytest.fixture(scope="module")
def upload_ui(tmp_path_factory):
    from index.ingest import ingest
    from qa.engine import Engine
    from qa.settings import Settings
    from qa.web.handlers import ChatUI

    base = tmp_path_factory.mktemp("uploads")
    docs = base / "docs"
    shutil.copytree(SEEDS, docs)
    settings = Settings(store_dir=base / "store", docs_dir=docs)
    ingest(settings.ingest_config)
    return ChatUI(Engine(settings), max_upload_bytes=200_000), base


class _Upload:
    """What Gradio hands the handler: a temp file path and the name the browser sent."""

    def __init__(self, path: Path, orig_name: str):
        self.name, self.orig_name = str(path), orig_name


_NAME_PARTS = st.one_of(
    st.sampled_from(["..", ".", "/", "\\", "~", "%2e%2e%2f", "\x00", "\n", " ", "C:", "//server/share",
                     "/etc/passwd", "..\\..\\windows", ".bashrc", "con", "$(reboot)", "`id`", "*", "?"]),
    st.text(max_size=12),
)  # fmt: skip
_EXTS = st.sampled_from(
    [*sorted(SUPPORTED), ".py", ".sh", ".exe", ".html.exe", ".PDF", "", ".", ".txt "]
)


def _upload_names_test(max_examples: int):
    @settings(max_examples=max_examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(parts=st.lists(_NAME_PARTS, min_size=1, max_size=6), ext=_EXTS)
    def run(upload_ui, tmp_path, parts, ext):
        from qa.errors import UploadRejected
        from qa.library.folder import safe_filename

        ui, _ = upload_ui
        name = "".join(parts) + ext
        try:
            safe = safe_filename(name)
        except UploadRejected as exc:
            assert str(exc).strip() and "\n" not in str(exc)
            reliability.add("uploads_fuzzed", 1, "name refused with a reason")
            return
        assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
        assert Path(safe).suffix.lower() in SUPPORTED and "\x00" not in safe
        dest = (ui.docs_dir / safe).resolve()
        assert dest.parent == ui.docs_dir.resolve()
        reliability.add("uploads_fuzzed", 1, "name made safe")

    return run


def test_upload_names_cannot_escape_the_documents_folder(upload_ui, tmp_path):
    _upload_names_test(400)(upload_ui, tmp_path)


def test_hostile_uploads_are_refused_or_stored_safely_and_never_run(upload_ui, tmp_path):
    ui, base = upload_ui
    marker = tmp_path / "executed"
    script = f"#!/bin/sh\ntouch {marker}\n"
    files = {
        "../../escape.txt": "The escape file says the vault code is 4711.",
        "/etc/cron.d/evil.md": "# Evil\n\nNot a cron job, just text.",
        "..\\..\\win.txt": "Backslashes are not folders here.",
        ".hidden.txt": "A hidden file name.",
        "run.sh": script,
        "tool.py": f"import pathlib; pathlib.Path({str(marker)!r}).touch()",
        "setup.exe": "MZ",
        "page.html": "<p>Visible words about a lighthouse.</p><script>fetch('/x')</script>",
        "big.txt": "word " * 50_000,  # 250 KB, over the 200 KB limit of this page
        "empty.txt": "",
    }
    uploads = []
    for i, (name, text) in enumerate(files.items()):
        path = tmp_path / f"upload{i}"
        path.write_text(text)
        path.chmod(0o755)
        uploads.append(_Upload(path, name))
    before = {p for p in base.rglob("*")}
    status, *_ = ui.upload(uploads, progress=lambda *a, **k: None)
    created = {p for p in base.rglob("*")} - before
    outside = [p for p in created if not p.is_relative_to(ui.docs_dir) and "store" not in p.parts]
    assert not outside, outside
    names = {p.name for p in ui.docs_dir.iterdir()}
    assert {"escape.txt", "evil.md", "win.txt", "hidden.txt", "page.html"} <= names
    assert not names & {"run.sh", "tool.py", "setup.exe", "big.txt", "empty.txt"}
    assert not any(n.startswith(".") for n in names)
    for word in ("run.sh", "tool.py", "setup.exe", "big.txt", "empty.txt"):
        assert word in status, (word, status)
    assert "over the upload limit" in status and "not supported" in status
    assert not marker.exists(), "an upload was executed"
    answer = ui.engine.ask("What is the vault code in the escape file?")
    assert any(c.source == "escape.txt" for c in answer.citations)
    stored = " ".join(c.text for c in ui.engine.corpus.store.all_chunks())
    assert "lighthouse" in stored and "fetch(" not in stored
    reliability.add("uploads_fuzzed", len(files), "hostile uploads through the upload handler")


def test_model_errors_do_not_leak_the_key_into_the_chat(seed_store):
    from qa.web.handlers import ChatUI

    server = _ThreadedModel()
    try:
        FaultyModel.mode = "http-401"
        engine = llm_engine(seed_store, server.url, openai_api_key=SECRET)
        chat = list(ChatUI(engine).respond("Who is the State Department spokesman?", None))
    finally:
        server.stop()
    html = json.dumps(chat)
    assert "OPENAI_API_KEY" in html and SECRET not in html
    reliability.add("secret_checks", 1, "chat page after a rejected key")


# ---- chats forged in the browser (issue 27, case 1)

FORGED_PDF = (
    "Minutes of the autumn meeting.\n\nThe Velloran board met on 9 October in Tartu. "
    "Nine members attended.\n\nThe harbour budget was approved."
)


def _forged_cases(citation: dict) -> dict[str, dict]:
    """Citations whose values no real answer has: each must cost the server next to nothing."""
    big = 10**15
    spans = [{"start": 0, "end": 1, "text": "x" * 20_000}] * 40
    return {
        "page_end 20 million": {**citation, "page": 1, "page_end": 20_000_000},
        "page 20 million": {**citation, "page": 20_000_000, "page_end": 20_000_001},
        "page_end before page": {**citation, "page": 5, "page_end": 1},
        "offsets past the text": {**citation, "start": big, "end": big + 5},
        "end before start": {**citation, "start": 50, "end": 10},
        "n 10^15": {**citation, "n": big},
        "score a string": {**citation, "score": "1e999"},
        "40 spans of 20k": {**citation, "sentences": spans},
    }


def test_forged_citations_cost_the_server_next_to_nothing(upload_ui, tmp_path):
    """A chat kept in the browser comes back with values no answer had (page_end 20,000,000
    made the server build a 20-million-page list: +1.7 GB, 9.4 s). Every value is bounded."""
    import time
    import tracemalloc

    ui, _ = upload_ui
    pdf = write_pdf(tmp_path / "velloran.pdf", FORGED_PDF)
    status, *_ = ui.upload([_Upload(pdf, "velloran.pdf")], progress=lambda *a, **k: None)
    assert "Added velloran.pdf" in status, status
    *_, last = ui.respond("Where did the Velloran board meet?", None)
    conv = last.conversation
    answer = conv["turns"][0]["answer"]
    real = next(c for c in answer["citations"] if c["source"] == "velloran.pdf")
    for name, forged in _forged_cases(real).items():
        turn = {**conv["turns"][0], "answer": {**answer, "citations": [forged]}}
        raw = json.dumps({**conv, "turns": [turn]})
        tracemalloc.start()
        t0 = time.perf_counter()
        try:
            _, kept, _ = ui.restore(raw)
            n = kept["turns"][0]["answer"]["citations"][0]["n"] if kept["turns"] else forged["n"]
            html = ui.open_source(kept, {"turn": 0, "n": n})
            seconds = time.perf_counter() - t0
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        held = seconds < 3 and peak < 60_000_000 and "Traceback" not in html
        reliability.case("issue 27.1: forged citation sent back to the server", held)
        assert held, (name, f"{seconds:.1f} s", f"{peak / 1e6:.0f} MB", html[:300])
        assert 'class="qa-viewer"' in html, name
