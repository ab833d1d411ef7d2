"""Helpers of the browser tests: the real app as a subprocess, Chromium, axe-core, screenshots."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.conftest import ROOT, free_port, wait_http

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 60_000
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"
DONE = "#qa-transcript .qa-answer"  # finished answers (the live area holds the rest)

# Runs app.py with an audit hook that writes down every address the server resolves or
# connects to, so a test can prove that nothing leaves the machine.
NET_LOGGING_LAUNCHER = """
import runpy, sys
log = open(sys.argv[1], "a", buffering=1)
def hook(event, args):
    if event == "socket.connect":
        log.write("connect " + repr(args[1]) + "\\n")
    elif event == "socket.getaddrinfo":
        log.write("resolve " + repr(args[0]) + "\\n")
sys.addaudithook(hook)
import socket
socket.getaddrinfo("localhost", 0)  # proves the hook records (the server itself may connect nowhere)
sys.argv = ["app.py", *sys.argv[2:]]
runpy.run_path("app.py", run_name="__main__")
"""


@contextlib.contextmanager
def running_app(base: Path, docs: Path, **env_extra: str):
    """``python app.py`` on a free port over ``docs`` with a private index under ``base``."""
    port = free_port()
    netlog = base / "network.log"
    out = base / "app.log"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("QA_UI_", "QA_DOCS", "QA_STORE"))
    }
    env.update(
        QA_STORE_DIR=str(base / "store"),
        GRADIO_TEMP_DIR=str(base / "gradio-uploads"),
        PYTHONUNBUFFERED="1",
        **env_extra,
    )
    with out.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", NET_LOGGING_LAUNCHER, str(netlog), "--port", str(port),
             "--docs", str(docs)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        try:
            wait_http(url, timeout=240, proc=proc)
        except Exception as exc:
            raise RuntimeError(f"app did not start: {exc}\n{out.read_text()}") from exc
        yield SimpleNamespace(
            url=url, port=port, docs=docs, store=base / "store", netlog=netlog, log=out, proc=proc
        )
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def launch_chromium(playwright):
    """Debian's Chromium, headless; Playwright downloads nothing."""
    assert Path(CHROMIUM).exists(), "install Debian's chromium (scripts/test.sh does)"
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True)


def open_page(browser, url: str, **context_options):
    """A new browser context (a new user) on the app; records requests, dialogs and errors."""
    context = browser.new_context(**{"viewport": DESKTOP, **context_options})
    pg = context.new_page()
    pg.requests, pg.dialogs, pg.errors = [], [], []
    pg.on("request", lambda r: pg.requests.append(r.url))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

    def on_dialog(d):
        pg.dialogs.append(d.message)
        d.dismiss()

    pg.on("dialog", on_dialog)
    pg.set_default_timeout(WAIT_MS)
    pg.goto(url)
    wait_ready(pg)
    return pg


def wait_ready(pg) -> None:
    """The page is up: the question box, the documents list and a restored (or new) chat."""
    pg.wait_for_selector("#qa-question textarea")
    pg.wait_for_selector("#qa-docs .qa-docs")
    # The chat kept in the browser (or a new one) has replaced the page's first render.
    pg.wait_for_selector("#qa-transcript .qa-transcript:not([data-chat=blank])")


def ask(pg, question: str):
    """Type a question, send it with Enter, and return the locator of the finished answer."""
    n = pg.locator(DONE).count()
    pg.fill("#qa-question textarea", question)
    pg.press("#qa-question textarea", "Enter")
    done = pg.locator(DONE)
    done.nth(n).wait_for()
    wait_kept(pg)
    return done.nth(n)


def wait_kept(pg, *needles: str) -> None:
    """The chat on screen is kept in this browser: the save runs just after an answer (or a
    rating) is shown, so a reload at once could otherwise come before it. ``needles`` must be
    in the kept chat too (a rating, a correction)."""
    pg.wait_for_function(
        """(needles) => {
          const t = document.querySelector('#qa-transcript .qa-transcript');
          if (!t) return false;
          const n = Number(t.dataset.turns);
          if (!n) return true;
          const key = Object.keys(localStorage).find((k) => k.endsWith('/chat/' + t.dataset.chat));
          const text = key ? localStorage.getItem(key) : null;
          let chat = null;
          try { chat = JSON.parse(text); } catch (e) { return false; }
          return !!chat && chat.turns.length === n && needles.every((s) => text.includes(s));
        }""",
        arg=list(needles),
    )


def upload(pg, *paths: Path) -> str:
    """Upload files through the documents panel; the status message that comes back."""
    before = pg.locator("#qa-doc-status .qa-msg").all_inner_texts()
    pg.set_input_files("#qa-upload input[type=file]", [str(p) for p in paths])
    pg.wait_for_function(
        "before => { const m = [...document.querySelectorAll('#qa-doc-status .qa-msg')]"
        ".map(e => e.innerText); return m.length && m.join('|') !== before.join('|'); }",
        arg=before,
    )
    # ... and Gradio's progress veil over the panel is gone.
    pg.wait_for_function(
        "() => !document.querySelector('#qa-side [data-testid=status-tracker]:not(.hide)')"
    )
    return " | ".join(pg.locator("#qa-doc-status .qa-msg").all_inner_texts())


def open_source(pg, answer, n: int = 1):
    """Click ``[n]`` in an answer; returns the viewer once it shows that source."""
    answer.locator(f'a.qa-ref[data-n="{n}"]').first.click()
    viewer = pg.locator("#qa-viewer .qa-viewer")
    viewer.wait_for(state="visible")
    pg.wait_for_function("() => !document.querySelector('#qa-main.qa-source-loading')")
    return viewer


def shot(pg, folder: Path, name: str) -> Path:
    """A screenshot of the viewport in test-output/, for people to look at."""
    path = folder / f"{name}.png"
    pg.screenshot(path=str(path))
    return path


IMPACTS = ("minor", "moderate", "serious", "critical")  # every level (issue 25)


def axe_violations(pg, impacts=IMPACTS) -> list[dict]:
    """axe-core's violations of the given impacts on the page as it is now (WCAG 2.x A/AA and
    axe's best practices: unique landmarks, content inside landmarks, one main...)."""
    assert AXE.exists(), "install axe-core: npm ci --prefix tests (scripts/test.sh does)"
    if not pg.evaluate("() => typeof window.axe !== 'undefined'"):
        pg.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    # Judge the page as it settles, not halfway through a fade (Gradio dims an output while its
    # event runs and fades it back): wait until no finite animation or transition is running.
    pg.wait_for_function(
        """() => document.getAnimations().every(a => a.playState !== 'running'
                 || a.effect.getTiming().iterations === Infinity)"""
    )
    found = pg.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"""
    )
    return [v for v in found if v["impact"] in impacts]


def outside_hosts(pg, port: int) -> set[str]:
    """Hosts other than the app that the page sent a request to."""
    import re

    hosts = {re.match(r"^[a-z]+://([^/]+)", u).group(1) for u in pg.requests if "://" in u}
    return hosts - {f"127.0.0.1:{port}"}
