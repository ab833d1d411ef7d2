// The source viewer beside the chat (over it on a phone): opened by a [n], closed by its
// button or Escape; scrolled to the supporting sentence (or the highlighted area of a page).
// The state is a class on the main row (inside Gradio's container, where the page CSS applies).
// A PDF page opens the viewer wide (the page readable without zoom); "Narrower" gives the chat
// its room back, and the choice is kept for the next page.
const main = () => document.getElementById("qa-main") || document.body;
const scroller = () => element.querySelector(".qa-v-body");
let narrow = false;

function reveal() {
  const box = scroller();
  if (!box) return;
  const page = element.querySelector("#qa-v-mode-page");
  const target = page && page.checked
    ? element.querySelector(".qa-pdf-hl") || element.querySelector(".qa-pdf")
    : element.querySelector(".qa-v-text .qa-sentence") || element.querySelector(".qa-passage-range");
  if (!target) return;
  const top = target.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  box.scrollTop = Math.max(0, top - box.clientHeight / 3);
}

function skipLink(open) {
  const link = document.querySelector("a.qa-skip[data-target='qa-viewer']");
  if (link) link.hidden = !open;
}
skipLink(false);

function close() {
  main().classList.remove("qa-source-open", "qa-source-wide");
  skipLink(false);
  document.querySelector(".qa-ref.qa-active")?.focus({ preventScroll: true });
}

function widen() {
  const pdf = Boolean(element.querySelector(".qa-pdf"));
  main().classList.toggle("qa-source-wide", pdf && !narrow);
  const button = element.querySelector(".qa-v-width");
  if (button) {
    button.hidden = !pdf;
    button.textContent = narrow ? "Wider" : "Narrower";
    button.setAttribute("aria-pressed", String(!narrow));
  }
}

window.addEventListener("qa-source-requested", () => {
  main().classList.add("qa-source-open", "qa-source-loading");
});

watch("value", () => {
  main().classList.remove("qa-source-loading");
  if (!element.querySelector(".qa-viewer")) return close();
  main().classList.add("qa-source-open");
  skipLink(true);
  // Every source opens on its page image when it has one (the browser may have kept the "Text"
  // choice of the source shown before).
  const page = element.querySelector("#qa-v-mode-page");
  if (page) page.checked = true;
  widen();
  const heading = element.querySelector(".qa-v-head h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  requestAnimationFrame(reveal);
  element.querySelector(".qa-pdf img")?.addEventListener("load", reveal, { once: true });
});

// Zoom: the page at about twice the panel's width, scrolled to the highlighted area.
function zoom(button) {
  const figure = button.closest(".qa-pdf");
  const on = !figure.classList.contains("qa-zoom");
  figure.classList.toggle("qa-zoom", on);
  button.setAttribute("aria-pressed", String(on));
  button.textContent = on ? "Zoom out" : "Zoom in";
  const box = figure.querySelector(".qa-pdf-scroll");
  const mark = figure.querySelector(".qa-pdf-hl");
  if (box && mark) {
    box.scrollLeft = on ? Math.max(0, mark.offsetLeft - 12) : 0;
  }
  requestAnimationFrame(reveal);
}

element.addEventListener("click", (e) => {
  if (e.target.closest(".qa-v-close")) close();
  const zoomButton = e.target.closest(".qa-pdf-zoom");
  if (zoomButton) zoom(zoomButton);
  if (e.target.closest(".qa-v-width")) {
    narrow = !narrow;
    widen();
    requestAnimationFrame(reveal);
  }
});
element.addEventListener("change", (e) => {
  if (e.target.name === "qa-v-mode") requestAnimationFrame(reveal);
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && main().classList.contains("qa-source-open")) close();
});
