"""Concurrency: questions from many threads while an ingest runs, in this process and in another;
two ingest processes on one store. Every answer cites chunks that exist, nothing errors, and the
store ends exactly as a clean ingest leaves it. Heavier variant: ``./scripts/test.sh -m slow``.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import reliability
from conftest import ROOT
from test_reliability_crash import check_store, expected_ids, question_for, write_file

from index.ingest import ingest
from index.load import load, scan
from index.types import Document
from qa.engine import Engine
from qa.errors import BadQuestionError
from qa.settings import Settings


def _texts(docs: Path) -> dict[str, str]:
    return {e.source: d.text for e in scan([docs])[0] if isinstance(d := load(e), Document)}


class Askers:
    """Threads that ask questions until stopped, checking every answer as it comes."""

    def __init__(self, engine: Engine, texts: dict[str, str], ids: range, n_threads: int):
        self.engine, self.texts, self.ids = engine, texts, ids
        self.errors: list[str] = []
        self.served = 0
        self.cited_ids: set[str] = set()  # files being added are checked at the end
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(k,)) for k in range(n_threads)]

    def _run(self, k: int) -> None:
        rng = random.Random(k)
        while not self._stop.is_set():
            i = rng.choice(self.ids)
            try:
                answer = self.engine.ask(question_for(i))
                for c in answer.citations:
                    # Documents already there never change, so a cited span is exactly its text.
                    text = self.texts.get(c.source)
                    if text is not None and text[c.start : c.end] != c.text:
                        raise AssertionError(f"citation of {c.source} does not match the file")
                with self._lock:
                    self.served += 1
                    self.cited_ids.update(c.passage.id for c in answer.citations)
            except BadQuestionError as exc:
                self.errors.append(f"bad question?! {exc}")
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self.threads:
            t.join(120)
        return False


def _corpus(tmp_path: Path, n: int) -> tuple[Path, Settings]:
    docs = tmp_path / "docs"
    docs.mkdir(parents=True)
    for i in range(n):
        write_file(docs, i, 0, random.Random(i))
    settings = Settings(store_dir=tmp_path / "store", docs_dir=docs)
    return docs, settings


def _add_files(docs: Path, start: int, n: int) -> None:
    for i in range(start, start + n):
        write_file(docs, i, 0, random.Random(i))


def threads_during_ingest(
    tmp_path, embedder, n_files: int, n_new: int, n_threads: int, in_process: bool
):
    docs, settings = _corpus(tmp_path, n_files)
    ingest(settings.ingest_config, embedder=embedder)
    engine = Engine(settings)
    texts = _texts(docs)
    _add_files(docs, n_files, n_new)
    with Askers(engine, texts, range(n_files + n_new), n_threads) as askers:
        time.sleep(1.0)
        if in_process:
            report = engine.ingest()
            assert len(report.added) == n_new
        else:
            env = {**os.environ, "QA_STORE_DIR": str(settings.store_dir), "QA_DOCS_DIR": str(docs)}
            proc = subprocess.run(
                [sys.executable, "-m", "qa.cli", "ingest"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
        served_during = askers.served
        time.sleep(1.0)
    assert not askers.errors, askers.errors[:5]
    assert served_during >= n_threads, "the askers were starved"
    # Every chunk ever cited exists in the final store; the store is exactly the clean state.
    check_store(settings, embedder, expected_ids(docs, embedder))
    final = {c.id for c in engine.corpus.store.all_chunks()}
    assert askers.cited_ids <= final, "an answer cited a chunk that does not exist"
    # After the ingest, the new files are answerable in this process without a restart.
    last = n_files + n_new - 1
    answer = engine.ask(question_for(last))
    assert any(c.source.startswith(f"doc{last:04d}") for c in answer.citations)
    # This process then writes too (an upload in the web app): nothing the other wrote is lost.
    _add_files(docs, last + 1, 5)
    report = engine.ingest()
    assert len(report.added) == 5
    check_store(settings, embedder, expected_ids(docs, embedder))
    answer = engine.ask(question_for(last + 5))
    assert any(c.source.startswith(f"doc{last + 5:04d}") for c in answer.citations)
    where = "in process" if in_process else "from another process"
    reliability.add(
        "concurrent_requests", askers.served, f"questions from {n_threads} threads, ingest {where}"
    )


def test_threads_ask_while_ingest_runs_in_process(tmp_path, embedder):
    threads_during_ingest(tmp_path, embedder, 40, 60, n_threads=4, in_process=True)


def test_threads_ask_while_another_process_ingests(tmp_path, embedder):
    threads_during_ingest(tmp_path, embedder, 40, 60, n_threads=4, in_process=False)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_many_threads_during_big_ingests(tmp_path, embedder):
    threads_during_ingest(tmp_path / "a", embedder, 150, 300, n_threads=12, in_process=True)
    threads_during_ingest(tmp_path / "b", embedder, 150, 300, n_threads=12, in_process=False)


def two_ingests_at_once(tmp_path, embedder, n_files: int, rounds: int) -> None:
    docs, settings = _corpus(tmp_path, n_files)
    env = {**os.environ, "QA_STORE_DIR": str(settings.store_dir), "QA_DOCS_DIR": str(docs)}
    refused = serialised = 0
    for r in range(rounds):
        if r:
            _add_files(docs, n_files * (r + 1), n_files // 2)
        cmd = [sys.executable, "-m", "qa.cli", "ingest"]
        pipes = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, **pipes) for _ in range(2)]
        outs = [p.communicate(timeout=600) for p in procs]
        codes = [p.returncode for p in procs]
        for (out, err), code in zip(outs, codes, strict=True):
            assert "Traceback" not in out + err, err[-3000:]
            if code != 0:
                assert code == 1 and "Another ingest is writing" in err and "run again" in err, err
                refused += 1
        assert 0 in codes, f"neither ingest finished: {outs}"
        serialised += codes.count(0) == 2
        check_store(settings, embedder, expected_ids(docs, embedder))
        reliability.add("concurrent_requests", 2, "ingest processes on one store at once")
    reliability.note(
        f"two ingests at once: {refused} refused with a clear message, {serialised} ran one after the other"
    )


def test_two_ingest_processes_on_one_store(tmp_path, embedder):
    two_ingests_at_once(tmp_path, embedder, n_files=30, rounds=2)


# ---- the web chat: several sessions asking while an upload is indexed

SEED_QUESTIONS = {
    "Where is Wang expected to travel after Munich?": "Russia",
    "Who did Blinken meet on Saturday?": "Wang Yi",
    "Who is the State Department spokesman?": "Ned Price",
}


def _big_upload(path: Path, sections: int) -> Path:
    lines = [f"Section {i}. The lighthouse log for night {i} records {i * 7 % 97} ships passing."
             for i in range(sections)]  # fmt: skip
    lines.append("The keeper of the Tarvos lighthouse is Marta Ilves.")
    path.write_text("\n".join(lines))
    return path


def test_chat_handlers_answer_while_an_upload_is_indexed(tmp_path, embedder):
    """The page's handlers, called from threads as Gradio does: chats go on during an upload."""
    import shutil

    from qa.web.handlers import ChatUI

    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "seeds", docs)
    settings = Settings(store_dir=tmp_path / "store", docs_dir=docs)
    ingest(settings.ingest_config, embedder=embedder)
    ui = ChatUI(Engine(settings))

    class Upload:
        def __init__(self, path: Path):
            self.name, self.orig_name = str(path), "tarvos-log.txt"

    errors: list[str] = []
    served, during = [0], [0]
    status: list[str] = []
    done = threading.Event()

    def uploader():
        try:
            status.append(ui.upload([Upload(_big_upload(tmp_path / "up.txt", 600))],
                                    progress=lambda *a, **k: None)[0])  # fmt: skip
        finally:
            done.set()

    def chatter(k: int):
        conv = None
        items = list(SEED_QUESTIONS.items())
        n = 0
        while not done.is_set() or n < 3:
            q, words = items[(k + n) % len(items)]
            *_, last = list(ui.respond(q, conv))
            conv = {**last.conversation, "turns": last.conversation["turns"][-2:]}
            html = (last.transcript or last.live).rsplit("<article", 1)[-1]  # this turn
            if "qa-error" in html or words not in html:
                errors.append(html[:300])
            served[0] += 1
            during[0] += not done.is_set()
            n += 1

    threads = [threading.Thread(target=uploader)] + [
        threading.Thread(target=chatter, args=(k,)) for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors, errors[:3]
    assert status and "Added tarvos-log.txt" in status[0], status
    assert during[0] >= 4, "no answer was given while the upload was being indexed"
    *_, last = list(ui.respond("Who is the keeper of the Tarvos lighthouse?", None))
    assert "Marta Ilves" in last.transcript and "tarvos-log.txt" in last.transcript
    reliability.add(
        "concurrent_requests", served[0], "chat handler calls during an upload (4 threads)"
    )


@pytest.mark.browser
def test_browser_sessions_ask_while_an_upload_is_indexed(tmp_path):
    """Real Chromium tabs (separate sessions) ask while another tab's upload is being indexed."""
    import shutil

    from conftest import free_port, wait_http
    from playwright.sync_api import sync_playwright

    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "seeds", docs)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "OPENAI_"))}
    env.update(QA_STORE_DIR=str(tmp_path / "store"), GRADIO_TEMP_DIR=str(tmp_path / "gradio"))
    log = (tmp_path / "app.log").open("w")
    app = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--docs", str(docs)],
                           cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    served = 0
    try:
        wait_http(url, timeout=300, proc=app)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            contexts = [browser.new_context() for _ in range(4)]
            pages = [c.new_page() for c in contexts]
            page_errors: list[str] = []
            for pg in pages:
                pg.set_default_timeout(120_000)
                pg.on("pageerror", lambda e: page_errors.append(str(e)))
                pg.goto(url)
                pg.wait_for_selector("#qa-question textarea")
            uploader, askers = pages[0], pages[1:]
            uploader.set_input_files("#qa-upload input[type=file]",
                                     str(_big_upload(tmp_path / "tarvos-log.txt", 1500)))  # fmt: skip
            items = list(SEED_QUESTIONS.items())
            for rnd in range(2):
                for k, pg in enumerate(askers):  # all sent before any is awaited
                    pg.fill("#qa-question textarea", items[(k + rnd) % len(items)][0])
                    pg.press("#qa-question textarea", "Enter")
                for k, pg in enumerate(askers):
                    done = pg.locator("#qa-chat .qa-answer:not(.qa-pending):not(.qa-streaming)")
                    done.nth(rnd).wait_for()
                    text = done.nth(rnd).inner_text()
                    assert items[(k + rnd) % len(items)][1] in text, text
                    assert pg.locator("#qa-chat .qa-error").count() == 0
                    served += 1
                if rnd == 0:  # the first answers came while the upload was still indexing
                    status = uploader.locator("#qa-doc-status").inner_text()
                    assert "Added tarvos-log.txt" not in status, "the upload finished first"
            uploader.wait_for_function(
                "() => (document.querySelector('#qa-doc-status') || {}).innerText?.includes('Added tarvos-log.txt')"
            )
            askers[0].fill("#qa-question textarea", "Who is the keeper of the Tarvos lighthouse?")
            askers[0].press("#qa-question textarea", "Enter")
            last = (
                askers[0].locator("#qa-chat .qa-answer:not(.qa-pending):not(.qa-streaming)").nth(2)
            )
            last.wait_for()
            assert "Marta Ilves" in last.inner_text()
            assert not page_errors, page_errors
            browser.close()
    finally:
        app.terminate()
        try:
            app.wait(15)
        except subprocess.TimeoutExpired:
            app.kill()
    reliability.add("concurrent_requests", served + 1, "browser sessions asking during an upload")


def test_processes_opening_a_new_store_at_once_all_open_it(tmp_path):
    """Chroma creates its tables when a folder is first opened: processes that open a new store
    at the same moment (two `qa ingest` on a fresh folder) must not race in that step."""
    code = (
        "import sys; from pathlib import Path; from index.embedded import Clients; "
        "c, _ = Clients.get(Path(sys.argv[1])); c.get_or_create_collection('abc')"
    )
    failed = []
    for r in range(8):
        folder = tmp_path / f"s{r}" / "chroma"
        cmd = [sys.executable, "-c", code, str(folder)]
        pipes = dict(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs = [subprocess.Popen(cmd, cwd=ROOT, **pipes) for _ in range(8)]
        for p in procs:
            _, err = p.communicate(timeout=300)
            if p.returncode:
                failed.append(err.strip().splitlines()[-1])
    assert not failed, failed[:3]
    reliability.add("concurrent_requests", 64, "processes opening 8 new stores, 8 at a time")


def test_threads_of_one_store_reload_it_once_and_never_fail(make_settings, embedder, monkeypatch):
    """Another process' write makes every asking thread see a stale store at once: one reloads
    it, none closes the client another just opened, and no call fails on a closed client."""
    from chromadb.api.client import Client

    from index import connection
    from index.store import open_store

    settings = make_settings()
    ingest(settings.ingest_config, embedder=embedder)
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    slow = Client.get_collection

    def get_collection(self, *args, **kwargs):  # a busy machine: the reload's window widens
        time.sleep(0.02)
        return slow(self, *args, **kwargs)

    monkeypatch.setattr(Client, "get_collection", get_collection)
    key = (store.where, settings.collection)
    vec = embedder.embed_query("Who did Blinken meet?")
    errors: list[str] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                store.refresh_generation()  # what an engine does before each question
                assert store.query(vec, 3)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                return

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        for _ in range(100):  # as if another process had written: this process view is older
            with connection._SEEN_LOCK:
                seen = connection._SEEN[key]
                connection._SEEN[key] = (seen[0], seen[1] - 1)
            time.sleep(0.03)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, errors[:3]
    assert store.connection._epoch >= 10  # it did reload, again and again
    reliability.add("faults_injected", 100, "forced reloads of one store under 8 threads")
    reliability.add("concurrent_requests", 8, "threads of one store through 100 forced reloads")
