"""The qa command as a user meets it: help with examples, stdin, exit codes, sources by title
and page, a progress bar that moves, and output that a hostile document cannot take over."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from fcntl import ioctl
from pathlib import Path

import reliability
from conftest import ROOT, SEEDS

from index.ingest import ingest
from qa.cli.main import build_parser, main
from qa.cli.terminal import clean
from qa.engine import Engine
from qa.outcomes import NOT_IN_DOCUMENTS, NOT_SURE

# Bytes a terminal obeys: C0 controls but tab and newline, DEL, C1 controls (ESC among them).
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SEED_SOURCE = next(SEEDS.glob("*.txt")).name


def _cli(*args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 300):
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "qa.cli", *args], input=stdin.encode() if stdin else None,
        capture_output=True, env=full_env, timeout=timeout, cwd=ROOT,
    )  # fmt: skip
    # Decoded by hand: text mode would turn a "\r" into "\n" and hide it.
    done.stdout = done.stdout.decode("utf-8", "replace")
    done.stderr = done.stderr.decode("utf-8", "replace")
    return done


def test_every_command_help_shows_an_example():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # the registered sub-commands
    assert {"ingest", "ask", "docs", "rm", "serve", "eval", "llm-server"} <= set(commands)
    for name, sub in commands.items():
        text = sub.format_help()
        assert "example" in text, f"qa {name} --help shows no example"
        assert f"qa {name}" in text.split("example", 1)[1], name
    assert "exit codes" in parser.format_help() and "3  qa ask --strict" in parser.format_help()


def test_ask_reads_stdin_and_strict_exit_codes(seed_store, seed_engine, monkeypatch, capsys):
    store = ["--store", str(seed_store.store_dir)]
    # --strict: 0 only for an answer given with confidence; 3 for "not sure" and for a refusal.
    # Whether a seed answer is confident moves with each recalibration: the engine says which.
    question = "Who is the State Department spokesman?"
    status = seed_engine.ask(question).status
    assert status in ("answered", "uncertain")
    strict = 0 if status == "answered" else 3
    monkeypatch.setattr(sys, "stdin", io.StringIO(question + "\n"))
    assert main(["ask", "--strict", *store]) == strict
    out = capsys.readouterr().out
    assert "Ned Price" in out and out.startswith(NOT_SURE) == (status == "uncertain")
    assert main(["ask", "--strict", "--json", *store, question]) == strict
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == status and "Ned Price" in shown["answer"]
    # "he" names no one: "not sure", whatever the calibration; --strict exits 3 for it.
    dangling = "What did he say about the surveillance balloon shot down off the coast?"
    monkeypatch.setattr(sys, "stdin", io.StringIO(dangling))
    assert main(["ask", "--strict", *store]) == 3
    out = capsys.readouterr().out
    assert out.startswith(NOT_SURE) and "Sources:" in out and "(uncertain;" in out
    assert main(["ask", *store, dangling]) == 0  # not strict
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("What is the boiling point of tungsten?"))
    assert main(["ask", "--strict", *store]) == 3
    out = capsys.readouterr().out
    assert out.startswith(NOT_IN_DOCUMENTS) and "(refused;" in out
    assert main(["ask", *store, "What is the boiling point of tungsten?"]) == 0  # not strict
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("   "))
    assert main(["ask", *store]) == 1
    assert capsys.readouterr().err.startswith("error: The question is empty")

    # The same through a real pipe, in a process of its own.
    question = "What did Wang call the US response?"
    status = seed_engine.ask(question).status
    assert status in ("answered", "uncertain")
    done = _cli("ask", "--strict", *store, stdin=question)
    assert done.returncode == (0 if status == "answered" else 3), done.stderr
    assert "absurd and hysterical" in done.stdout
    assert "Sources:" in done.stdout and "Traceback" not in done.stderr


def test_ask_can_be_limited_to_named_documents(make_settings, tmp_path, capsys):
    """Issue 25: qa ask --source NAME (repeatable) asks only those documents."""
    from index.ingest import ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The Quorvex ferry leaves the harbour at six every morning.\n")
    (docs / "b.txt").write_text("The Quorvex ferry leaves the island at nine every evening.\n")
    s = make_settings(docs_dir=docs)
    ingest(s.ingest_config)
    store = ["--store", str(s.store_dir), "--json"]
    assert main(["ask", *store, "--source", "b.txt", "When does the Quorvex ferry leave?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {c["source"] for c in answer["retrieved"]} == {"b.txt"} and "nine" in answer["answer"]
    assert main(["ask", *store, "--source", "a.txt", "--source", "b.txt", "Quorvex?"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert {c["source"] for c in both["retrieved"]} == {"a.txt", "b.txt"}
    assert main(["ask", *store, "--source", "c.txt", "When does the ferry leave?"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Not in the index: c.txt.") and err.count("\n") == 1


def _paged_pdf(path: Path, title: str, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    path.write_bytes(bytes(pdf.output()))
    return path


def test_ask_shows_title_and_page_and_offsets_only_when_verbose(make_settings, tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    filler = " ".join(f"Owls were counted at site {i} on the northern ridge." for i in range(30))
    _paged_pdf(
        docs / "survey.pdf",
        "Bird survey 2025",
        [filler, "The kestrel count at Lake Ross was 57 birds in May, the highest on record."],
    )
    settings = make_settings(docs_dir=docs)
    ingest(settings.ingest_config)
    store = ["--store", str(settings.store_dir)]
    assert main(["ask", *store, "What was the kestrel count at Lake Ross?"]) == 0
    out = capsys.readouterr().out
    assert "57 birds" in out
    # The passage runs over the page break (chunks overlap): "pp. 1–2"; "p. 2" if it did not.
    assert re.search(r"^\[1\] Bird survey 2025, (p\. 2|pp\. 1–2)$", out, re.MULTILINE), out
    assert "characters" not in out and "survey.pdf" not in out
    assert main(["ask", "--verbose", *store, "What was the kestrel count at Lake Ross?"]) == 0
    verbose = capsys.readouterr().out
    match = re.search(r"survey\.pdf, characters (\d+)-(\d+), score \d\.\d{3}", verbose)
    assert match, verbose
    text = Engine(settings).document("survey.pdf").text
    start, end = int(match.group(1)), int(match.group(2))
    assert "kestrel count" in text[start:end]


def test_cli_strips_terminal_escapes_from_documents_and_file_names(make_settings, tmp_path):
    """Issue 17, case 3: escape sequences in a document or a file name reach no terminal."""
    docs = tmp_path / "docs"
    docs.mkdir()
    hostile = (
        "The heron count at Lake Ross was 41.\x1b[2K\x1b[1A Fake line: all clear."
        " \x1b]52;c;cm0gLXJmIH4=\x07 The clipboard was set.\x1b]0;pwned\x1b\\ Title changed."
        " \x9b2J 8-bit erase.\rOverwritten start. Bell\x07 and backspace\x08."
    )
    (docs / "herons\x1b[31m\rnotes.txt").write_text(hostile, encoding="utf-8")
    (docs / "empty\x1b]52;c;eA==\x07\r.txt").write_text("", encoding="utf-8")  # skipped: named
    store = str(tmp_path / "store")
    runs = {
        "qa ingest": _cli("ingest", "--store", store, str(docs)),
        "qa ask": _cli("ask", "--verbose", "--store", store, "What was the heron count at Lake Ross?"),
        "qa ask --stream": _cli("ask", "--stream", "--store", store, "heron count Lake Ross"),
        "qa ask --json": _cli("ask", "--json", "--store", store, "heron count Lake Ross"),
        "qa docs": _cli("docs", "--store", store, "--docs", str(docs)),
        "qa docs --json": _cli("docs", "--json", "--store", store, "--docs", str(docs)),
    }  # fmt: skip
    for name, done in runs.items():
        assert done.returncode == 0, (name, done.stderr)
        found = UNSAFE.findall(done.stdout + done.stderr)
        reliability.add("cases_tried", 1, f"terminal escapes: {name}")
        reliability.add(
            "cases_held" if not found else "cases_failed", 1, f"terminal escapes: {name}"
        )
        assert not found, (name, found, done.stdout)
    assert "skipped empty.txt: empty file" in runs["qa ingest"].stdout
    assert "41." in runs["qa ask"].stdout and "Fake line: all clear." in runs["qa ask"].stdout
    assert "cm0gLXJmIH4=" not in runs["qa ask"].stdout  # the clipboard payload goes too
    assert (
        "heronsnotes.txt" in runs["qa docs"].stdout and "heronsnotes.txt" in runs["qa ask"].stdout
    )
    assert "\\u001b" in runs["qa ask --json"].stdout  # JSON keeps the text, escaped


def test_clean_removes_sequences_whole():
    assert clean("a\x1b[2K\x1b[1Ab") == "ab"
    assert clean("x\x1b]52;c;SGVsbG8=\x07y\x1b]8;;http://e.example\x1b\\z") == "xyz"
    assert clean("p\x9b31mq\x1bcr\x1bPdata\x1b\\s") == "pqrs"
    assert clean("tab\tand\nline\r\x00\x7f\u202eok") == "tab\tand\nlineok"
    assert clean("two\nlines\tand tab", one_line=True) == "two lines and tab"
    assert clean("unterminated \x1b]52;c;AAAA") == "unterminated "


def _run_in_terminal(args: list[str], columns: int = 110) -> str:
    """Run ``qa`` in a pseudo-terminal of a real size; returns everything it drew."""
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, columns, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", *args], stdin=subprocess.DEVNULL, stdout=slave,
        stderr=slave, env=env, cwd=ROOT,
    )  # fmt: skip
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        out += data
    os.close(master)
    assert proc.wait(60) == 0, out.decode("utf-8", "replace")[-2000:]
    return out.decode("utf-8", "replace")


def test_ingest_progress_bar_moves_through_a_big_file(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    seed = (SEEDS / SEED_SOURCE).read_text(encoding="utf-8")
    (docs / "big.txt").write_text("\n\n".join([seed] * 5), encoding="utf-8")  # ~50 chunks
    drawn = _run_in_terminal(["ingest", "--store", str(tmp_path / "store"), str(docs)])
    frames = [f for f in re.split(r"[\r\n]", drawn) if f.startswith("Indexing:")]
    percents = [int(m.group(1)) for f in frames if (m := re.match(r"Indexing:\s+(\d+)%", f))]
    assert percents == sorted(percents), percents
    inside = {p for p in percents if 0 < p < 100}
    assert len(inside) >= 4, f"one file, yet the bar should move per chunk: {percents}"
    assert any(re.search(r"\d+\.\d+ files/s", f) for f in frames), frames
    assert any(re.search(r"\[\d\d:\d\d<\d\d:\d\d,", f) for f in frames), frames  # elapsed<ETA
    assert "added 1" in drawn


def test_ingest_progress_is_reported_per_file(make_settings, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(12):
        (docs / f"note{i:02d}.txt").write_text(f"Note {i}: the heron count was {i * 3}.")
    calls: list[tuple[float, int]] = []
    ingest(make_settings(docs_dir=docs).ingest_config, progress=lambda d, t: calls.append((d, t)))
    done = [d for d, _ in calls]
    assert {t for _, t in calls} == {12}
    assert done[0] == 0 and done[-1] == 12 and done == sorted(done)
    assert len(set(done)) >= 12  # it moved at least once per file


def test_usage_errors_exit_with_2():
    done = _cli("ask", "--no-such-option")
    assert done.returncode == 2 and "usage:" in done.stderr
