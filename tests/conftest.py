"""Shared fixtures: real Chroma (temp dir and a real server), the real local embedding model."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.procs import free_port, stop_process, wait_http
from index.offline import quiet

quiet()
# Ctrl-C as a keyboard sends it: several tests interrupt a real `qa` process with SIGINT. A suite
# started in the background by a non-interactive shell (`nohup ./scripts/test.sh &`) inherits
# SIGINT ignored, and an ignored signal stays ignored in every process it starts; restoring
# Python's handler here gives those processes the default, as from a terminal.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
# The suite never talks to a real OpenAI account: tests that need a model start their own server.
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "QA_OPENAI_API_KEY", "QA_OPENAI_BASE_URL"):
    os.environ.pop(var, None)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATASETS = ROOT / "eval" / "datasets"  # the reference sets vendored with the project
TEST_OUTPUT = ROOT / "test-output"


def offered(answer) -> bool:
    """The documents' answer is given: with confidence, or as "not sure" with the best guess
    first. Where a test is not about where the calibrated boundary between the two lies (it moves
    with every recalibration), it asks this, not for one of the two."""
    return answer.status in ("answered", "uncertain") and bool(answer.citations)


@pytest.fixture
def make_settings(tmp_path):
    """Settings with a private store under tmp_path; keyword overrides."""
    from qa.settings import Settings

    def make(**kw):
        kw.setdefault("store_dir", tmp_path / "store")
        kw.setdefault("docs_dir", SEEDS)
        return Settings(**kw)

    return make


@pytest.fixture(scope="session")
def embedder():
    """The real local MiniLM embedder."""
    from index.embed import make_embedder
    from qa.settings import Settings

    return make_embedder(Settings().embed_config)


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory):
    """A store holding the real index of seeds/, built once per session."""
    from index.ingest import ingest
    from qa.settings import Settings

    settings = Settings(store_dir=tmp_path_factory.mktemp("seed-store"), docs_dir=SEEDS)
    ingest(settings.ingest_config)
    return settings


@pytest.fixture(scope="session")
def seed_engine(seed_store):
    """The question-answering engine over the seed index."""
    from qa.engine import Engine

    return Engine(seed_store)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on 127.0.0.1 and a free port; yields its URL."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=quiet(dict(os.environ)),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/api/v2/heartbeat", timeout=60, proc=proc)
        yield url
    finally:
        stop_process(proc)


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium, one per browser-test module (each module's own Playwright)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch_chromium

    with sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def page(browser, app):
    """A fresh desktop tab on the module's ``app``, as a new user (empty browser storage)."""
    from tests.browser import open_page

    pg = open_page(browser, app.url)
    yield pg
    pg.context.close()


@pytest.fixture(scope="session")
def test_output() -> Path:
    """The folder where tests leave artefacts for people to look at (screenshots, reports)."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT


def pytest_terminal_summary(terminalreporter):
    """Print the reliability figures and write test-output/reliability.json (when any ran)."""
    import reliability

    if not reliability.collected():
        return
    data = reliability.write(TEST_OUTPUT / "reliability.json")
    terminalreporter.section("reliability figures")
    for line in reliability.summary_lines(data):
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"(written to {TEST_OUTPUT / 'reliability.json'})")


def start_llm_server(folder: Path, *args: str, timeout: float = 180.0):
    """Start `qa llm-server` (SmolLM2-135M) on 127.0.0.1 and a free port; returns (process, /v1 URL)."""
    port = free_port()
    log = (folder / f"llm-server-{port}.log").open("w")
    cmd = [sys.executable, "-m", "qa.cli", "llm-server", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen([*cmd, *args], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_http(f"{url}/models", timeout, proc, accept_http_errors=True)
    except (RuntimeError, TimeoutError) as exc:
        stop_process(proc)
        raise RuntimeError(f"qa llm-server did not start ({exc}); see {log.name}") from None
    return proc, url


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """A real llama.cpp server (`qa llm-server`, the shipped SmolLM2-135M); yields its /v1 URL."""
    proc, url = start_llm_server(tmp_path_factory.mktemp("llm-server"))
    try:
        yield url
    finally:
        stop_process(proc)
