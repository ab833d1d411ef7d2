"""Crash safety: SIGKILL `qa ingest` at random points, many times; a re-run converges exactly.

A corpus of a few hundred files is changed a little each round (files edited, added, deleted),
then `qa ingest` runs in a real process and is killed at a random moment, one to three times in
a row, sometimes during `--rebuild`. After each round a normal ingest must reach exactly the
state a clean ingest of the same files gives: the same chunk ids and counts, complete files, no
duplicates, a keyword index that matches the store, and at the end the same answers.
Heavier variant (more files, more kills): ``./scripts/test.sh -m slow``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import reliability
from conftest import ROOT
from samples import write_docx, write_pdf

from index.chunk import chunk_document
from index.ingest import ingest
from index.keyword import KeywordIndex
from index.load import load, scan
from index.store import open_store
from index.types import Document
from qa.engine import Engine

WORDS = [
    "amber",
    "basalt",
    "cobalt",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lagoon",
    "meadow",
    "nickel",
    "orchid",
    "pewter",
    "quartz",
    "russet",
    "saffron",
    "tundra",
    "umber",
    "violet",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
]
NAMES = [f"{a.capitalize()}{b}" for a in WORDS for b in ("ton", "ville", "field", "more")]


def _file_text(rng: random.Random, i: int, version: int, long: bool) -> str:
    name = NAMES[i % len(NAMES)] + str(i)
    facts = [
        f"The code name of project {name} is {rng.choice(WORDS)}-{version}.",
        f"Project {name} was started in {1900 + rng.randrange(120)} by the {rng.choice(WORDS)} team.",
        f"Its budget is {rng.randrange(1, 999)} thousand {rng.choice(['euros', 'dollars', 'crowns'])}.",
    ]
    n = rng.randrange(30, 45) if long else rng.randrange(0, 4)
    facts += [
        f"Note {k}: the {rng.choice(WORDS)} {rng.choice(WORDS)} report was filed on day {k}."
        for k in range(n)
    ]
    return f"Project {name}\n\n" + " ".join(facts)


def question_for(i: int) -> str:
    """A question that document i answers (its code name)."""
    return f"What is the code name of project {NAMES[i % len(NAMES)]}{i}?"


def write_file(folder: Path, i: int, version: int, rng: random.Random) -> str:
    """Write document i (one of several types); returns its file name."""
    long = i % 10 == 0
    text = _file_text(rng, i, version, long)
    kind = i % 20
    if kind == 3:
        name = f"doc{i:04d}.html"
        body = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
        (folder / name).write_text(
            f"<html><head><title>Doc {i}</title></head><body>{body}</body></html>"
        )
    elif kind == 7:
        name = f"doc{i:04d}.docx"
        write_docx(folder / name, text.split("\n\n"))
    elif kind == 11 and i % 40 == 11:
        name = f"doc{i:04d}.pdf"
        write_pdf(folder / name, text)
    elif kind in (5, 13):
        name = f"doc{i:04d}.md"
        (folder / name).write_text("# " + text)
    else:
        name = f"doc{i:04d}.txt"
        (folder / name).write_text(text)
    return name


def expected_ids(docs: Path, embedder) -> set[str]:
    """The chunk ids a clean ingest of the folder gives (chunk ids depend only on content)."""
    ids = set()
    for entry in scan([docs])[0]:
        doc = load(entry)
        if isinstance(doc, Document):
            ids |= {c.id for c in chunk_document(doc, embedder.count_tokens)}
    return ids


def check_store(settings, embedder, want: set[str]) -> None:
    """The store holds exactly the wanted chunks, each file complete, and BM25 agrees."""
    store = open_store(settings.store_config, embedder.name, embedder.dim, create=False)
    chunks = store.all_chunks()
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids)) == store.count(), "duplicate chunks"
    spans = {(c.source, c.start, c.end) for c in chunks}
    assert len(spans) == len(chunks), "two chunks for one span (an old version left behind)"
    missing, extra = want - set(ids), set(ids) - want
    if missing or extra:
        reliability.lost(len(missing), "chunks missing after a re-run")
    assert not missing and not extra, f"{len(missing)} chunks missing, {len(extra)} extra"
    for source, state in store.file_states().items():
        assert len(state.hashes) == 1 and next(iter(state.hashes.values())) == state.n_chunks, (
            source
        )
    keyword = KeywordIndex.for_store(store)
    assert sorted(c.id for c in keyword.chunks) == sorted(ids), "keyword index out of step"


def _spawn_ingest(settings, rebuild: bool, stderr=subprocess.PIPE) -> subprocess.Popen:
    env = {
        **os.environ,
        "QA_STORE_DIR": str(settings.store_dir),
        "QA_DOCS_DIR": str(settings.docs_dir),
    }
    args = [sys.executable, "-m", "qa.cli", "ingest"] + (["--rebuild"] if rebuild else [])
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True
    )


def _timed_run(settings) -> float:
    t0 = time.perf_counter()
    proc = _spawn_ingest(settings, rebuild=False)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return time.perf_counter() - t0


def _snapshot(settings, embedder) -> set[str]:
    try:
        store = open_store(settings.store_config, embedder.name, embedder.dim, create=False)
        return {c.id for c in store.all_chunks()}
    except Exception:
        return set()


def kill_and_converge(tmp_path, embedder, n_files: int, rounds: int, seed: int) -> None:
    rng = random.Random(seed)
    docs = tmp_path / "docs"
    docs.mkdir()
    names = {i: write_file(docs, i, 0, random.Random(i)) for i in range(n_files)}
    original = {p.name: p.read_bytes() for p in docs.iterdir()}
    base = dict(docs_dir=docs)
    from qa.settings import Settings

    clean = Settings(store_dir=tmp_path / "clean", **base)
    broken = Settings(store_dir=tmp_path / "broken", **base)
    clean_ids = expected_ids(docs, embedder)
    t_full = _timed_run(clean)  # the reference: a clean ingest in a real process
    check_store(clean, embedder, clean_ids)
    empty = Settings(store_dir=tmp_path / "empty", docs_dir=tmp_path / "nothing")
    (tmp_path / "nothing").mkdir()
    t_start = _timed_run(empty)  # start-up alone: imports, model, store
    reliability.note(
        f"crash test: clean ingest of {n_files} files {t_full:.1f} s, start-up {t_start:.1f} s"
    )

    kills = mid_write = 0
    next_new = n_files
    for r in range(rounds):
        # Change part of the corpus: edits (often keeping the chunk count), additions, deletions.
        if r > 0:
            for i in rng.sample(sorted(names), k=max(1, len(names) // 6)):
                (docs / names[i]).unlink()
                names[i] = write_file(docs, i, r, random.Random(i * 1000 + r))
            for i in rng.sample(sorted(names), k=max(1, len(names) // 40)):
                (docs / names.pop(i)).unlink()
            for _ in range(max(1, n_files // 40)):
                names[next_new] = write_file(docs, next_new, r, random.Random(next_new))
                next_new += 1
        want = expected_ids(docs, embedder)
        work = max(0.2, len(want - _snapshot(broken, embedder)) / max(1, len(clean_ids)))
        for _ in range(rng.choice([1, 1, 2, 3])):
            rebuild = rng.random() < 0.2
            before = _snapshot(broken, embedder)
            log = tmp_path / "ingest.err"
            with log.open("w") as err_file:  # a file, not a pipe: a full pipe would stall it
                proc = _spawn_ingest(broken, rebuild, stderr=err_file)
            span = (t_full - t_start) * (1.0 if rebuild else work)
            time.sleep(rng.uniform(0.5 * t_start, t_start + 1.2 * span))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
            err = log.read_text()
            assert "Traceback" not in err, err[-3000:]
            after = _snapshot(broken, embedder)
            if after != before and after != want:
                mid_write += 1
        report = ingest(broken.ingest_config, embedder=embedder)  # the normal re-run
        assert not report.skipped, report.summary()
        check_store(broken, embedder, want)
        again = ingest(broken.ingest_config, embedder=embedder)
        assert again.chunks_embedded == 0 and not (again.added or again.updated or again.removed)

    # Back to the original files: the killed-and-recovered store equals the clean one exactly.
    for p in docs.iterdir():
        p.unlink()
    for name, data in original.items():
        (docs / name).write_bytes(data)
    ingest(broken.ingest_config, embedder=embedder)
    check_store(broken, embedder, clean_ids)
    a, b = Engine(clean), Engine(broken)
    for i in rng.sample(range(n_files), k=8):
        q = question_for(i)
        x, y = a.ask(q), b.ask(q)
        assert (x.text, [c.passage.id for c in x.citations]) == (
            y.text,
            [c.passage.id for c in y.citations],
        )
        assert x.citations or x.refused
    reliability.add("kills_survived", kills, f"SIGKILL of qa ingest ({n_files} files)")
    reliability.add("kills_mid_write", mid_write, "kills that left a half-written store")
    reliability.add("files_ingested_under_kills", n_files + next_new - n_files)
    assert kills >= rounds // 2, f"only {kills} of the kills landed while ingest ran"


def test_sigkill_ingest_converges(tmp_path, embedder):
    kill_and_converge(tmp_path, embedder, n_files=200, rounds=3, seed=8)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_sigkill_ingest_converges_many_times(tmp_path, embedder):
    kill_and_converge(tmp_path, embedder, n_files=400, rounds=15, seed=88)


# ---- a kill at every write boundary, deterministically

KILLER = r"""
import atexit, importlib, os, signal, sys
from index import keyword_files, store
ingest = importlib.import_module("index.ingest")  # the module (index.ingest is the function)

ingest.GROUP_CHUNKS = 3  # many small groups: many write boundaries
target, calls = int(os.environ["KILL_AT"]), [0]

def point(name):
    calls[0] += 1
    if calls[0] == target:
        sys.stderr.write(f"killed at point {target} ({name})\\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)

def wrap(cls, name):
    original = getattr(cls, name)
    def run(*args, **kwargs):
        point("before " + name)
        result = original(*args, **kwargs)
        point("after " + name)
        return result
    setattr(cls, name, run)

for name in ("upsert", "delete_source", "bump_generation"):
    wrap(store.Store, name)
for name in ("build", "update", "compact"):  # the keyword index's files
    wrap(keyword_files, name)
atexit.register(lambda: print(f"points={calls[0]}"))
from qa.cli.main import main
sys.exit(main(["ingest"]))
"""


def _run_killer(settings, at: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_STORE_DIR": str(settings.store_dir),
           "QA_DOCS_DIR": str(settings.docs_dir), "KILL_AT": str(at)}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-c", KILLER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def kill_at_write_points(tmp_path, embedder, sample: int | None) -> None:
    """Edits that keep each file's chunk count, and one deletion and one addition: a kill at
    each chosen write boundary, then a normal re-run, must give exactly the clean state."""
    from qa.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(24):
        write_file(docs, i, 0, random.Random(i))
    settings = Settings(store_dir=tmp_path / "store", docs_dir=docs)
    v0 = {p.name: p.read_bytes() for p in docs.iterdir()}

    def edit() -> None:  # same length, so the chunking (and chunk count) stays the same
        for name in sorted(v0)[::4]:
            if name.endswith((".txt", ".md")):
                (docs / name).write_text(
                    (docs / name).read_text().replace("code name", "CODE NAME")
                )
        (docs / sorted(v0)[1]).unlink()
        write_file(docs, 99, 1, random.Random(99))

    def restore() -> None:
        for p in docs.iterdir():
            p.unlink()
        for name, data in v0.items():
            (docs / name).write_bytes(data)

    ingest(settings.ingest_config, embedder=embedder)
    edit()
    want = expected_ids(docs, embedder)
    probe = _run_killer(settings, 0)  # no kill: count the write boundaries
    assert probe.returncode == 0, probe.stderr
    total = int(probe.stdout.strip().splitlines()[-1].split("=")[1])
    assert total >= 10
    check_store(settings, embedder, want)
    points = list(range(1, total + 1))
    if sample is not None:  # always the risky ones: around the generation bumps and the save
        rng = random.Random(total)
        points = sorted(
            {1, 2, total - 3, total - 2, total - 1, total} | set(rng.sample(points, sample))
        )
    for at in points:
        restore()
        ingest(settings.ingest_config, embedder=embedder)
        edit()
        proc = _run_killer(settings, at)
        assert proc.returncode == -signal.SIGKILL, (at, proc.returncode, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr
        ingest(settings.ingest_config, embedder=embedder)
        check_store(settings, embedder, want)
        reliability.add("kills_survived", 1, "SIGKILL at a chosen write boundary")
    reliability.note(
        f"crash test: {total} write boundaries in the kill-point ingest, {len(points)} killed"
    )


def test_kill_at_write_boundaries(tmp_path, embedder):
    kill_at_write_points(tmp_path, embedder, sample=1)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_kill_at_every_write_boundary(tmp_path, embedder):
    kill_at_write_points(tmp_path, embedder, sample=None)
