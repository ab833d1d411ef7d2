"""How the real web app looks and reads, in headless Chromium: phone width, dark mode, one font,
no Gradio footer, and axe-core's accessibility rules. Screenshots go to test-output/."""

from __future__ import annotations

import shutil

import pytest

from tests.browser import (
    DESKTOP,
    PHONE,
    ask,
    axe_violations,
    open_page,
    open_source,
    running_app,
    shot,
    upload,
)
from tests.conftest import SEEDS
from tests.samples import ESPRESSO, write_pdf

pytestmark = pytest.mark.browser

LONG_NAME = (
    "quarterly-report-of-the-harbour-authority-on-ferry-timetables-and-pier-maintenance-2024.txt"
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("web-look")
    shutil.copytree(SEEDS, base / "docs")
    write_pdf(base / "docs" / "espresso.pdf", ESPRESSO)
    (base / "docs" / LONG_NAME).write_text(
        "The harbour authority moved the ferry to pier four in March.\n", encoding="utf-8"
    )
    with running_app(base, base / "docs") as running:
        yield running


def _overflow(pg) -> int:
    """How far the page is wider than the screen (0: no sideways scrolling)."""
    return pg.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth,"
        " window.innerWidth) - screen.width"
    )


def _luminance(pg, selector: str, prop: str = "backgroundColor") -> float:
    """Relative luminance (0 black - 1 white) of an element's colour, transparent parents skipped."""
    return pg.evaluate(
        """([sel, prop]) => {
            let e = document.querySelector(sel);
            let c = 'rgba(0, 0, 0, 0)';
            while (e) {
                c = getComputedStyle(e)[prop];
                if (prop !== 'backgroundColor' || !/rgba\\(.*, 0\\)$/.test(c)) break;
                e = e.parentElement;
            }
            const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(v => {
                v = Number(v) / 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
            });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        }""",
        [selector, prop],
    )


def test_phone_width_header_on_load_no_overflow_input_reachable(browser, app, test_output):
    pg = open_page(browser, app.url, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        assert pg.evaluate("() => window.scrollY") == 0  # nothing scrolls the page on load
        header = pg.locator(".qa-header").bounding_box()
        assert header["y"] >= 0 and header["y"] + header["height"] <= 120
        assert _overflow(pg) == 0
        box = pg.locator("#qa-question textarea").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]  # reachable
        assert pg.locator("#qa-ask").bounding_box()["y"] + 10 <= PHONE["height"]
        shot(pg, test_output, "web-phone-start")
        # The long file name stays on one line (cut with an ellipsis), nothing overflows.
        row = (
            pg.locator(".qa-docrow", has_text="harbour").locator(".qa-docfile, .qa-doctitle").first
        )
        assert row.bounding_box()["height"] < 30
        pg.evaluate("() => document.querySelector('#qa-side').scrollIntoView({block: 'start'})")
        shot(pg, test_output, "web-phone-documents")
        pg.evaluate("() => window.scrollTo(0, 0)")
        answer = ask(pg, "Where is Wang expected to travel after Munich?")
        assert _overflow(pg) == 0
        question = pg.locator("#qa-transcript .qa-bubble").first.bounding_box()
        lead = answer.locator(".qa-lead").bounding_box()
        assert question["y"] + question["height"] <= lead["y"]  # nothing sits over the question
        shot(pg, test_output, "web-phone-answer")
        viewer = open_source(pg, answer)
        v = viewer.bounding_box()
        assert v["x"] <= 1 and v["width"] >= PHONE["width"] - 2  # over the page, full width
        assert viewer.locator("mark.qa-sentence").first.is_visible()
        assert _overflow(pg) == 0
        shot(pg, test_output, "web-phone-source")
        viewer.locator(".qa-v-close").click()
        viewer.wait_for(state="hidden")
        pg.locator(".qa-chats-toggle").click()
        assert pg.locator(".qa-chat-item").first.is_visible()
        shot(pg, test_output, "web-phone-chats")
        pdf = ask(pg, "How often must the Lumen Barista Pro be descaled?")
        n = pdf.locator("a.qa-src", has_text="Lumen").first.get_attribute("data-n")
        viewer = open_source(pg, pdf, int(n))
        viewer.locator(".qa-pdf-hl").first.wait_for()
        assert _overflow(pg) == 0
        shot(pg, test_output, "web-phone-pdf")
        assert pg.errors == []
    finally:
        pg.context.close()


def test_dark_mode_colours_every_part(browser, app, test_output, tmp_path):
    pg = open_page(browser, app.url, color_scheme="dark")
    try:
        answer = ask(pg, "Where is Wang expected to travel after Munich?")
        assert _luminance(pg, "body") < 0.05
        for sel in (".qa-cite-item", "#qa-chat", ".qa-docrow", ".qa-doclist", ".qa-confirm-no",
                    ".qa-chat-item.qa-current", "#qa-upload .upload-container"):  # fmt: skip
            assert _luminance(pg, sel) < 0.1, sel  # no light cards left in dark mode
        for sel in (".qa-lead", ".qa-doctitle", ".qa-chat-name", ".qa-meta"):
            assert _luminance(pg, sel, "color") > 0.3, sel  # light text on them
        danger = pg.locator(".qa-doc-act.qa-danger").first
        assert _luminance(pg, ".qa-doc-act.qa-danger") < 0.1 and danger.is_visible()
        shot(pg, test_output, "web-dark-desktop")
        viewer = open_source(pg, answer)
        assert _luminance(pg, ".qa-viewer") < 0.1 and _luminance(pg, ".qa-v-head") < 0.1
        assert _luminance(pg, "mark.qa-sentence", "color") > 0.5  # highlighted, still readable
        shot(pg, test_output, "web-dark-source")
        viewer.locator(".qa-v-close").click()
        assert axe_violations(pg) == []
    finally:
        pg.context.close()


def test_one_font_stack_and_no_gradio_footer(browser, app):
    pg = open_page(browser, app.url)
    try:
        ask(pg, "Who did Blinken meet on Saturday?")
        families = pg.evaluate(
            """() => [...new Set([...document.querySelectorAll(
                '.qa-header h1, .qa-header p, .qa-lead, .qa-evidence h3, .qa-chats-title, .qa-side-title,'
                + ' #qa-question textarea, #qa-ask, .qa-doctitle, .qa-example, .qa-fb-open, label, h2')]
                .map(e => getComputedStyle(e).fontFamily))]"""
        )
        assert len(families) == 1 and "IBM Plex" not in families[0], families
        assert families[0].startswith("system-ui")
        assert pg.locator("footer").count() == 0 or not pg.locator("footer").is_visible()
        assert pg.get_by_text("Settings", exact=True).count() == 0
        assert pg.get_by_text("Built with Gradio").count() == 0
        fonts = pg.evaluate("() => [...document.fonts].map(f => f.family)")
        assert not [f for f in fonts if "Plex" in f], fonts  # no partial web font to fall back from
    finally:
        pg.context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_accessibility_violations(browser, app, viewport, tmp_path, test_output):
    """axe-core on the page with an answer, the documents panel, a source open, a confirmation."""
    pg = open_page(browser, app.url, viewport=viewport)
    try:
        assert axe_violations(pg) == []  # the empty chat
        answer = ask(pg, "How did Wang Yi describe the US response to the balloon?")
        answer.locator(".qa-fb-open").click()  # the correction form open
        row = pg.locator(".qa-docrow").first
        row.locator(".qa-doc-act[data-action=delete]").click()  # a confirmation open
        assert axe_violations(pg) == [], "answer and documents panel"
        viewer = open_source(pg, answer)
        assert axe_violations(pg) == [], "source open"
        viewer.locator(".qa-v-close").click()
        pdf = ask(pg, "How long does the Barista Pro warranty last?")
        n = pdf.locator("a.qa-src", has_text="Lumen").first.get_attribute("data-n")
        open_source(pg, pdf, int(n))
        assert axe_violations(pg) == [], "PDF page open"
        doc = tmp_path / "bad.exe"
        doc.write_bytes(b"MZ")
        upload(pg, doc)
        assert axe_violations(pg) == [], "with an error message"
    finally:
        pg.context.close()
