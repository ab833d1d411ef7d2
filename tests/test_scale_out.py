"""Past one machine: the writer lock kept in Chroma, and replicas that share only a Chroma server.

Everything runs against a real `chroma run` on 127.0.0.1. "Machines" are processes (or engines)
with separate store and documents folders: they share nothing but the server, as replicas on
different hosts would.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import reliability
from conftest import ROOT
from samples import write_pdf
from test_reliability_crash import check_store, expected_ids, question_for, write_file

from index.errors import StoreLockedError
from index.ingest import ingest
from index.keyword import KeywordIndex
from index.liveness import gone, process_identity
from index.lock import DEAD_SETTLE_S, ChromaLease
from index.store import open_store
from qa.engine import Engine
from qa.settings import Settings

LEASE = re.compile(r"lease on '[^']+' (taken|released) at ([0-9.]+) by ([0-9a-f]+)")


def _collection() -> str:
    return "scale-" + uuid.uuid4().hex[:10]


def _docs(folder: Path, ids: range) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in ids:
        write_file(folder, i, 0, random.Random(i))
    return folder


def _machine(tmp_path: Path, name: str, url: str, collection: str, **kw) -> Settings:
    """Settings of one "machine": its own store and documents folders, the shared server."""
    docs = tmp_path / name / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    return Settings(chroma_url=url, collection=collection, store_dir=tmp_path / name / "store",
                    docs_dir=docs, **kw)  # fmt: skip


def _env(settings: Settings, **extra) -> dict[str, str]:
    return {**os.environ, "QA_CHROMA_URL": settings.chroma_url, "QA_COLLECTION": settings.collection,
            "QA_STORE_DIR": str(settings.store_dir), "QA_DOCS_DIR": str(settings.docs_dir),
            **{k: str(v) for k, v in extra.items()}}  # fmt: skip


def _spawn_ingest(settings: Settings, log: Path, *args: str, **extra) -> subprocess.Popen:
    with log.open("w") as err:  # a file, not a pipe: a full pipe would stall the process
        return subprocess.Popen(
            [sys.executable, "-m", "qa.cli", "-v", "ingest", *args], cwd=ROOT,
            env=_env(settings, **extra), stdout=subprocess.DEVNULL, stderr=err, text=True,
        )  # fmt: skip


def _intervals(text: str) -> list[tuple[float, float]]:
    taken: dict[str, float] = {}
    out = []
    for what, at, owner in LEASE.findall(text):
        if what == "taken":
            taken[owner] = float(at)
        elif owner in taken:
            out.append((taken.pop(owner), float(at)))
    return out


# ---- the lock


def test_leases_in_one_process_exclude_each_other_and_lapse(tmp_path, chroma_server, embedder):
    settings = _machine(tmp_path, "m", chroma_server, _collection(), lock_ttl=3, lock_wait=0)
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    first = ChromaLease(store.ledger, settings.store_config)
    first.acquire()
    with pytest.raises(StoreLockedError) as refused:
        ChromaLease(store.ledger, settings.store_config).acquire()
    message = str(refused.value)
    assert f"process {os.getpid()}" in message and "run again" in message, message
    # The holder "dies": it stops renewing without letting go. Its claim lapses on the
    # server's clock, and a writer that waits gets the lock within the lease's lifetime.
    first._stop.set()
    first._thread.join()
    t0 = time.monotonic()
    waiting = Settings(**{**settings.model_dump(), "lock_wait": 30}).store_config
    second = ChromaLease(store.ledger, waiting)
    second.acquire()
    waited = time.monotonic() - t0
    assert waited < 3 + 5, f"the lapsed lease held the lock for {waited:.1f} s"
    # The old holder knows it lost the lock: its next write is refused instead of racing.
    with pytest.raises(StoreLockedError, match="lost its lock"):
        first.check()
    second.check()
    second.release()
    assert not store.ledger.leases()
    reliability.add("faults_injected", 1, "writer lease: holder stopped renewing (lapsed)")


HOLD_LEASE = """
import sys, time
from index.liveness import gone, process_identity
from index.lock import DEAD_SETTLE_S, ChromaLease
from index.store import open_store
from qa.settings import Settings
settings = Settings(chroma_url=sys.argv[1], collection=sys.argv[2], store_dir=sys.argv[3])
store = open_store(settings.store_config, sys.argv[4], int(sys.argv[5]))
ChromaLease(store.ledger, settings.store_config).acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_killed_writers_lease_is_cleared_without_waiting_out_its_lifetime(
    tmp_path, chroma_server, embedder
):
    settings = _machine(tmp_path, "m", chroma_server, _collection(), lock_ttl=120, lock_wait=0)
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LEASE, chroma_server, settings.collection,
         str(tmp_path / "holder"), embedder.name, str(embedder.dim)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        # Alive in another process: its claim stands.
        with pytest.raises(StoreLockedError, match=f"process {holder.pid} "):
            ChromaLease(store.ledger, settings.store_config).acquire()
        holder.kill()
        holder.wait()
        t0 = time.monotonic()
        waiting = Settings(**{**settings.model_dump(), "lock_wait": 60}).store_config
        lease = ChromaLease(store.ledger, waiting)
        lease.acquire()
        waited = time.monotonic() - t0
    finally:
        holder.kill()
        holder.wait()
    # Not the claim's 120 s lifetime: the settle time a last write gets to land, and no less.
    assert lease.settle - 0.5 <= waited < lease.settle + 8, f"waited {waited:.1f} s"
    lease.release()
    assert not store.ledger.leases()
    reliability.add("faults_injected", 1, "writer lease: holder SIGKILLed, cleared as dead")


def test_a_claim_from_another_machine_is_not_judged_by_local_pids(
    tmp_path, chroma_server, embedder
):
    settings = _machine(tmp_path, "m", chroma_server, _collection(), lock_ttl=120, lock_wait=1)
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs here, recorded as if by another kernel
    store.ledger.put_lease("elsewhere", {"host": "other", "pid": dead.pid, "started": 1,
                                         "boot": "another-boot", "pidns": "1:1",
                                         "expires": store.ledger.now() + 120})  # fmt: skip
    with pytest.raises(StoreLockedError, match="on other"):
        ChromaLease(store.ledger, settings.store_config).acquire()


def test_liveness_proves_death_only_on_this_kernel():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = {"pid": proc.pid, **process_identity(proc.pid)}
        assert set(record) == {"pid", "boot", "pidns", "started"}
        assert not gone(record)
        assert gone({**record, "started": int(record["started"]) + 1})  # the pid was reused
        proc.kill()
        time.sleep(0.5)
        assert gone(record)  # a zombie, not yet reaped
        proc.wait()
        assert gone(record)
        assert not gone({**record, "boot": "another-boot"})
        assert not gone({**record, "pidns": "0:0"})
        assert not gone({"pid": proc.pid})  # an older record: nothing provable
        assert not gone({**process_identity(), "pid": os.getpid()})
    finally:
        proc.kill()
        proc.wait()


def test_many_writers_racing_for_the_lease_never_hold_it_together(
    tmp_path, chroma_server, embedder
):
    settings = _machine(tmp_path, "m", chroma_server, _collection(), lock_ttl=10, lock_wait=120)
    store = open_store(settings.store_config, embedder.name, embedder.dim)
    held: list[tuple[float, float]] = []
    errors: list[str] = []
    start = threading.Barrier(6)

    def writer() -> None:
        lease = ChromaLease(store.ledger, settings.store_config)
        start.wait()
        try:
            for _ in range(3):
                lease.acquire()
                t0 = time.monotonic()
                time.sleep(0.2)
                held.append((t0, time.monotonic()))
                lease.release()
                lease = ChromaLease(store.ledger, settings.store_config)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    assert len(held) == 18
    held.sort()
    overlaps = sum(b[0] < a[1] for a, b in itertools.pairwise(held))
    assert overlaps == 0, f"{overlaps} times two writers held the lease at once"
    reliability.add("concurrent_requests", 18, "writers racing for one Chroma-held lease")


def test_two_ingest_processes_on_two_machines_are_serialised(tmp_path, chroma_server, embedder):
    collection = _collection()
    machines = [_machine(tmp_path, m, chroma_server, collection) for m in ("a", "b")]
    _docs(Path(machines[0].docs_dir), range(30))  # the same folder on both machines, as copies
    shutil.copytree(machines[0].docs_dir, machines[1].docs_dir, dirs_exist_ok=True)
    logs = [tmp_path / f"ingest-{i}.log" for i in range(2)]
    procs = [_spawn_ingest(s, log, QA_LOCK_WAIT=300) for s, log in zip(machines, logs, strict=True)]
    for p in procs:
        p.wait(600)
    texts = [log.read_text() for log in logs]
    for p, text in zip(procs, texts, strict=True):
        assert p.returncode == 0 and "Traceback" not in text, text[-3000:]
    spans = sorted(i for t in texts for i in _intervals(t))
    assert len(spans) == 2, spans
    assert spans[0][1] <= spans[1][0], f"both held the lock at once: {spans}"
    # At least one waited; both may, when their claims met and both stepped back once.
    assert any("waiting for another writer" in t for t in texts), "neither ingest waited"
    want = expected_ids(Path(machines[0].docs_dir), embedder)
    for s in machines:
        check_store(s, embedder, want)
    reliability.add("concurrent_requests", 2, "ingests from two machines into one server")


def test_a_killed_holder_lets_go_and_the_next_ingest_converges(tmp_path, chroma_server, embedder):
    collection = _collection()
    a, b = (_machine(tmp_path, m, chroma_server, collection) for m in ("a", "b"))
    _docs(Path(a.docs_dir), range(120))
    shutil.copytree(a.docs_dir, b.docs_dir, dirs_exist_ok=True)  # a copy: the same bytes
    log = tmp_path / "holder.log"
    ttl = 60  # a dead holder on this machine is let go of after the settle time, not this
    holder = _spawn_ingest(a, log, QA_LOCK_TTL=ttl)
    deadline = time.monotonic() + 300
    while "taken at" not in log.read_text():
        assert holder.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    time.sleep(random.Random(5).uniform(1.0, 3.0))  # mid-write
    assert holder.poll() is None, "the holder finished before it could be killed"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    killed_at = time.time()
    nxt = _spawn_ingest(b, tmp_path / "next.log", QA_LOCK_WAIT=120)
    code = nxt.wait(600)
    text = (tmp_path / "next.log").read_text()
    if code and "cannot open the vector index" in text:
        # Chroma's own fault, seen once in CI: the server lost the index the killed writer was
        # filling (chroma-core/chroma#4212). The error names the fix; the fix has to work.
        fix = _spawn_ingest(b, tmp_path / "rebuild.log", "--rebuild")
        assert fix.wait(600) == 0, (tmp_path / "rebuild.log").read_text()[-3000:]
        reliability.note("killed lease holder: Chroma lost the collection's vector index; "
                         "qa ingest --rebuild, as the error said, restored it")  # fmt: skip
    else:
        assert code == 0, text[-3000:]
    check_store(b, embedder, expected_ids(Path(b.docs_dir), embedder))
    assert "waiting for another writer" in text and "is gone" in text, text[-3000:]
    assert "cleared 1 lease(s) of writers that died" in text, text[-3000:]
    # The holder ran on this machine, so its death is seen: its claim is cleared once it has
    # been dead for the settle time (a last write has landed), long before it would lapse
    # (its last renewal was at most ttl/5 before the kill).
    taken = _intervals(text)[0][0]
    assert DEAD_SETTLE_S <= taken - killed_at < ttl * 4 / 5 - 1, taken - killed_at
    reliability.note(f"killed lease holder: the next writer took over {taken - killed_at:.1f} s "
                     f"after the kill (lease {ttl} s, settle {DEAD_SETTLE_S:.0f} s)")  # fmt: skip
    # Both machines, the one that was killed too, come to exactly the clean state.
    want = expected_ids(Path(b.docs_dir), embedder)
    check_store(b, embedder, want)
    check_store(a, embedder, want)
    answer = Engine(a).ask(question_for(7))
    assert any(c.source.startswith("doc0007") for c in answer.citations), answer.text
    reliability.add("kills_survived", 1, "SIGKILL of the lease holder (Chroma server)")


# ---- replicas


def _ask_until(engine: Engine, question: str, want, timeout: float = 30.0) -> float:
    """Seconds until ``want(answer)`` holds (asking again and again), or fail."""
    t0 = time.monotonic()
    while True:
        answer = engine.ask(question)
        if want(answer):
            return time.monotonic() - t0
        assert time.monotonic() - t0 < timeout, (question, answer.text)
        time.sleep(0.2)


def _segments(engine: Engine) -> int:
    return len(engine.corpus.keyword.segments)


def test_two_replicas_see_each_others_upload_and_removal(tmp_path, chroma_server, embedder):
    collection = _collection()
    a, b = (_machine(tmp_path, m, chroma_server, collection) for m in ("a", "b"))
    _docs(Path(a.docs_dir), range(12))  # the same starting folder on both (a deployed image)
    shutil.copytree(a.docs_dir, b.docs_dir, dirs_exist_ok=True)
    from qa.http.server import prepare_engine  # each replica indexes its folder before it serves

    ea, eb = prepare_engine(a), prepare_engine(b)
    assert eb.ask(question_for(3)).citations
    # An upload on replica A (a PDF): answerable on B, whose keyword index re-reads only it.
    fact = "The keeper of the Tarvos lighthouse is Marta Ilves."
    pdf = write_pdf(Path(a.docs_dir) / "tarvos.pdf", f"Tarvos lighthouse log\n\n{fact}")
    before = _segments(eb)
    ea.ingest()
    uploaded = time.monotonic()
    question = "Who is the keeper of the Tarvos lighthouse?"
    seconds = _ask_until(eb, question, lambda x: any(c.source == "tarvos.pdf" for c in x.citations))
    assert "Marta Ilves" in eb.ask(question).text
    assert _segments(eb) == before + 1, "B rebuilt its keyword index instead of following"
    # The file itself is served by B, which never had it: its bytes come from the server.
    assert not (Path(b.docs_dir) / "tarvos.pdf").exists()
    assert eb.original("tarvos.pdf") == pdf.read_bytes()
    assert "Marta Ilves" in eb.document("tarvos.pdf").text
    reliability.note(
        f"replicas: an upload on one was answered on the other {seconds:.2f} s after its "
        f"ingest ended ({time.monotonic() - uploaded:.2f} s with the check)"
    )
    # An operator's `qa ingest` of a folder (which mirrors it) leaves the upload alone.
    mirrored = ingest(b.ingest_config, embedder=embedder)
    assert not mirrored.removed and "tarvos.pdf" in {d.source for d in eb.documents()}
    # Removal on A: gone on B at its next question, and its file is no longer served.
    ea.remove_document("tarvos.pdf")
    _ask_until(eb, question, lambda x: not any(c.source == "tarvos.pdf" for c in x.citations))
    assert eb.original("tarvos.pdf") is None and eb.document("tarvos.pdf") is None
    # A document both replicas hold a copy of, removed on A, does not come back when B starts
    # again (B's own copy is older than the removal), but an upload of it again does.
    doc3 = next(d.source for d in ea.documents() if d.source.startswith("doc0003"))
    ea.remove_document(doc3)
    report = Engine(b).ingest()
    assert doc3 in {s.source for s in report.skipped} and not report.added, report.summary()
    assert doc3 not in {d.source for d in eb.documents()}
    copy = Path(b.docs_dir) / doc3
    copy.write_bytes(copy.read_bytes())  # uploaded again: a new file, newer than the removal
    assert doc3 in eb.ingest().added
    _ask_until(ea, question_for(3), lambda x: any(c.source == doc3 for c in x.citations))
    # B's upload does not prune what only A has, and each replica's index matches the store.
    assert {"tarvos.pdf"}.isdisjoint(d.source for d in eb.documents())
    for engine in (ea, eb):
        store = engine.corpus.store
        keyword = KeywordIndex.for_store(store)
        assert sorted(c.id for c in keyword.chunks) == sorted(c.id for c in store.all_chunks())
    reliability.add("concurrent_requests", 2, "replicas over one Chroma server (upload, removal)")
