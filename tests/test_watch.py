"""The watched folder (issue 26): real files written, edited, renamed and deleted while the
watcher runs; a rename reuses the stored vectors; ``qa ingest --watch`` from the command line."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT, SEEDS, offered

from index.ingest import ingest
from qa.engine import Engine
from qa.library.watch import FolderWatcher

SEED = next(SEEDS.glob("*.txt"))
FERRY = "Harbour notes\n\nThe ferry to Vela Luka leaves the harbour at noon every Tuesday.\n"
EDITED = "Harbour notes\n\nThe ferry to Vela Luka leaves the harbour at dawn every Friday.\n"
QUESTION = "When does the ferry to Vela Luka leave the harbour?"
LIMIT_S = 10.0  # a new file is answerable this soon after it lands


def _until(check, timeout: float = 30.0, every: float = 0.2):
    """Poll ``check`` until it returns something true; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout} s")


@pytest.fixture
def watched(tmp_path, make_settings, embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    settings = make_settings(docs_dir=docs)
    ingest(settings.ingest_config, embedder=embedder)
    engine = Engine(settings)
    syncs = []
    watcher = FolderWatcher(engine, on_sync=syncs.append).start()
    time.sleep(0.5)  # the watch is set up
    yield engine, docs, syncs
    watcher.stop()


def _answer(engine: Engine, words: str):
    """The answer to QUESTION once it gives ``words`` (answered, or "not sure" with them first:
    where that boundary lies is calibrated elsewhere), else None."""
    answer = engine.ask(QUESTION)
    return answer if offered(answer) and words in answer.text else None


def test_the_index_follows_files_written_edited_renamed_and_deleted(watched):
    engine, docs, syncs = watched
    # Written in two goes, as a slow copy would: read once it stopped changing, whole.
    t0 = time.monotonic()
    with (docs / "ferry.txt").open("w", encoding="utf-8") as f:
        f.write(FERRY[:30])
        f.flush()
        time.sleep(0.6)
        f.write(FERRY[30:])
    answer = _until(lambda: _answer(engine, "noon"), LIMIT_S + 5)
    landed = time.monotonic() - t0
    assert landed <= LIMIT_S, f"answerable {landed:.1f} s after it landed"
    assert answer.citations[0].source == "ferry.txt"
    assert all("Vela Luka leaves the harbour at noon" in p.text for p in engine.retrieve(
        "ferry Vela Luka", k=20) if p.source == "ferry.txt")  # fmt: skip

    # An edit replaces the old passages.
    (docs / "ferry.txt").write_text(EDITED, encoding="utf-8")
    _until(lambda: _answer(engine, "dawn"))
    texts = [p.text for p in engine.retrieve("ferry Vela Luka harbour", k=20)]
    assert not any("noon" in t for t in texts), texts

    # A rename moves the document; its vectors are reused, nothing is embedded again.
    before = len(syncs)
    os.rename(docs / "ferry.txt", docs / "boats.txt")
    _until(lambda: {d.source for d in engine.documents()} == {SEED.name, "boats.txt"})
    moved = _until(lambda: next((s for s in syncs[before:] if "boats.txt" in s.report.added), None))
    assert moved.report.removed == ["ferry.txt"] and moved.report.chunks_embedded == 0
    assert _answer(engine, "dawn").citations[0].source == "boats.txt"

    # A deleted file leaves the index.
    (docs / "boats.txt").unlink()
    _until(lambda: {d.source for d in engine.documents()} == {SEED.name})
    gone = engine.ask(QUESTION)
    assert "Vela Luka" not in gone.text and {c.source for c in gone.citations} <= {SEED.name}
    assert all(s.error == "" for s in syncs), [s.error for s in syncs]


def test_hidden_and_unsupported_files_do_not_wake_the_index(watched):
    engine, docs, syncs = watched
    (docs / ".ferry.txt.swp").write_text("editor state", encoding="utf-8")
    (docs / "notes.bin").write_bytes(b"\x00\x01")
    (docs / ".hidden").mkdir()
    (docs / ".hidden" / "ferry.txt").write_text(FERRY, encoding="utf-8")
    time.sleep(4)
    assert syncs == []
    assert {d.source for d in engine.documents()} == {SEED.name}


def test_a_rename_reuses_the_stored_vectors(make_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / "a.txt")
    settings = make_settings(docs_dir=docs)
    first = ingest(settings.ingest_config, embedder=embedder)
    assert first.chunks_embedded == first.chunks_total > 0
    (docs / "a.txt").rename(docs / "b.txt")
    moved = ingest(settings.ingest_config, embedder=embedder)
    assert (moved.added, moved.removed, moved.chunks_embedded) == (["b.txt"], ["a.txt"], 0)
    assert moved.chunks_total == first.chunks_total
    engine = Engine(settings)
    found = engine.retrieve("Who did Blinken meet?", k=3)
    assert found and {p.source for p in found} == {"b.txt"}
    text = (docs / "b.txt").read_text(encoding="utf-8")
    assert all(text[p.start : p.end] == p.text for p in found)
    # A copy is indexed under both names, the second without embedding.
    shutil.copy(docs / "b.txt", docs / "c.txt")
    copied = ingest(settings.ingest_config, embedder=embedder)
    assert copied.added == ["c.txt"] and copied.chunks_embedded == 0


def test_deleted_files_leave_a_shared_index(chroma_server, make_settings, tmp_path):
    """Over a Chroma server ingest prunes nothing; the watcher removes what was deleted."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    settings = make_settings(docs_dir=docs, chroma_url=chroma_server, collection="watched")
    ingest(settings.ingest_config)
    engine = Engine(settings)
    syncs = []
    watcher = FolderWatcher(engine, on_sync=syncs.append).start()
    try:
        time.sleep(0.5)
        (docs / "ferry.txt").write_text(FERRY, encoding="utf-8")
        _until(lambda: _answer(engine, "noon"), LIMIT_S + 5)
        (docs / "ferry.txt").unlink()
        _until(lambda: {d.source for d in engine.documents()} == {SEED.name})
        _until(lambda: any(s.removed == ("ferry.txt",) for s in syncs))
    finally:
        watcher.stop()


def test_qa_ingest_watch_from_the_command_line(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "qa.cli", "ingest", "--watch", str(docs),
           "--store", str(tmp_path / "store")]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    lines = []
    watchdog = threading.Timer(180, proc.kill)  # a missed change fails the test, not the run
    watchdog.start()
    try:
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Watching "):
                time.sleep(1.5)  # the watch is set up just after the line is printed
                (docs / "ferry.txt").write_text(FERRY, encoding="utf-8")
            if "added ferry.txt" in line:
                (docs / "ferry.txt").unlink()
            if "removed ferry.txt" in line:
                break
    finally:
        watchdog.cancel()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    lines.append(out)
    shown = "".join(lines)
    assert "added 1" in shown and "added ferry.txt" in shown and "removed ferry.txt" in shown
    assert proc.returncode == 0, err
    assert "Stopped watching" in shown and "Traceback" not in err


def test_the_web_app_watches_its_folder(tmp_path):
    """``python app.py``: a file dropped into the folder is answered over /v1, no restart."""
    import httpx
    from test_server import running

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED, docs / SEED.name)
    with running(tmp_path, ["app.py", "--docs", str(docs)]) as app:
        assert "Watching" in app.log.read_text()
        t0 = time.monotonic()
        (docs / "ferry.txt").write_text(FERRY, encoding="utf-8")
        ask = {"model": "documents", "messages": [{"role": "user", "content": QUESTION}]}

        def answered():
            reply = httpx.post(f"{app.api}/chat/completions", json=ask, timeout=60).json()
            return (
                reply["status"] in ("answered", "uncertain")  # the answer given, sure or not
                and "noon" in reply["choices"][0]["message"]["content"]
                and reply["citations"][0]["source"] == "ferry.txt"
            )

        _until(answered, LIMIT_S + 5)
        assert time.monotonic() - t0 <= LIMIT_S
