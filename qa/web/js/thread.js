// The finished turns: [n] opens the source viewer, feedback is sent, examples are asked,
// and a new answer is scrolled to its top (the answer leads, its evidence follows).
const thread = () => element.closest("#qa-chat") || element.parentElement;
let count = -1;

function scrollToLast() {
  const turns = element.querySelectorAll(".qa-turn");
  const last = turns[turns.length - 1];
  const box = thread();
  if (!last || !box) return;
  const top = last.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  box.scrollTop = Math.max(0, top - 8);
}

element.addEventListener("click", (e) => {
  const ref = e.target.closest(".qa-ref[data-n]");
  if (ref) {
    e.preventDefault();
    document.querySelectorAll(".qa-ref.qa-active").forEach((a) => a.classList.remove("qa-active"));
    ref.classList.add("qa-active");
    window.dispatchEvent(new CustomEvent("qa-source-requested"));
    trigger("qa_cite", { turn: Number(ref.dataset.turn), n: Number(ref.dataset.n) });
    return;
  }
  const fb = e.target.closest(".qa-fb");
  if (fb) {
    fb.setAttribute("aria-pressed", "true");
    trigger("qa_feedback", { turn: Number(fb.dataset.turn), rating: fb.dataset.rating });
    return;
  }
  const opener = e.target.closest(".qa-fb-open");
  if (opener) {
    const form = opener.parentElement.querySelector(".qa-fb-form");
    form.hidden = !form.hidden;
    opener.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) form.querySelector("textarea").focus();
    return;
  }
  const cancel = e.target.closest(".qa-fb-cancel");
  if (cancel) {
    const form = cancel.closest(".qa-fb-form");
    form.hidden = true;
    form.parentElement.querySelector(".qa-fb-open").setAttribute("aria-expanded", "false");
    return;
  }
  const example = e.target.closest(".qa-example");
  if (example) trigger("qa_example", { question: example.textContent });
});

element.addEventListener("submit", (e) => {
  const form = e.target.closest(".qa-fb-form");
  if (!form) return;
  e.preventDefault();
  const text = form.querySelector("textarea").value.trim();
  const none = form.querySelector("input[name=unanswerable]").checked;
  if (!text && !none) {
    form.querySelector("textarea").focus();
    return;
  }
  trigger("qa_feedback", {
    turn: Number(form.dataset.turn), rating: "down", correction: text, unanswerable: none,
  });
});

watch("value", () => {
  const root = element.querySelector(".qa-transcript");
  const now = root ? Number(root.dataset.turns) : 0;
  if (now !== count) requestAnimationFrame(scrollToLast);
  count = now;
});

// Desktop: ready to type. Phones: no focus, so the keyboard does not cover the page on load.
if (window.matchMedia("(min-width: 768px)").matches) {
  setTimeout(() => document.querySelector("#qa-question textarea")?.focus({ preventScroll: true }), 0);
}

// The question is taken from the box at the moment Enter is pressed (or Ask clicked), so text
// typed right after it is never sent in its place, nor wiped (see page.py, TAKE_JS).
const questionBox = () => document.querySelector("#qa-question textarea");
document.addEventListener("keydown", (e) => {
  // An Enter on the box just emptied (a double Enter) keeps the question noted by the first.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.target === questionBox()
      && e.target.value.trim()) {
    window.qaTyped = e.target.value;
  }
}, true);
document.addEventListener("click", (e) => {
  const text = questionBox()?.value;
  if (e.target.closest && e.target.closest("#qa-ask") && text && text.trim()) window.qaTyped = text;
}, true);
