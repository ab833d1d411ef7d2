// The finished turns: [n] opens the source viewer (and, hovered or focused, shows the sentence
// it cites), feedback is sent, answers are copied, asked again or edited, examples are asked;
// a new answer is scrolled to its top (the answer leads, its evidence follows).
const thread = () => element.closest("#qa-chat") || element.parentElement;
const questionBox = () => document.querySelector("#qa-question textarea");
let count = -1;

function scrollToLast() {
  const turns = element.querySelectorAll(".qa-turn");
  const last = turns[turns.length - 1];
  const box = thread();
  if (!last || !box) return;
  const top = last.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  box.scrollTop = Math.max(0, top - 8);
}

// One floating preview for every [n]: the cited sentence, beside the link (WCAG 1.4.13: it
// stays while hovered, and Escape dismisses it).
const tip = document.createElement("div");
tip.id = "qa-tip";
tip.className = "qa-tip";
tip.setAttribute("role", "tooltip");
tip.hidden = true;
// Inside the page's main row (a landmark), out of the transcript that is redrawn.
(document.getElementById("qa-main") || document.body).append(tip);
let tipFor = null;
let hideTimer = 0;

function showTip(ref) {
  const turn = ref.closest(".qa-turn");
  const source = turn && turn.querySelector(`.qa-tips [data-tip="${ref.dataset.n}"]`);
  if (!source || ref.closest(".qa-cite-src")) return;
  clearTimeout(hideTimer);
  tip.innerHTML = source.innerHTML; // rendered (escaped) by the server, as the answer itself
  tip.hidden = false;
  tipFor = ref;
  ref.setAttribute("aria-describedby", "qa-tip");
  const r = ref.getBoundingClientRect();
  const w = Math.min(360, window.innerWidth - 16);
  tip.style.width = w + "px";
  tip.style.left = Math.max(8, Math.min(r.left - w / 2 + r.width / 2, window.innerWidth - w - 8)) + "px";
  const h = tip.offsetHeight;
  const below = r.bottom + 8 + h < window.innerHeight || r.top - 8 - h < 0;
  tip.style.top = (below ? r.bottom + 6 : r.top - 6 - h) + "px";
}
function hideTip(now) {
  clearTimeout(hideTimer);
  const go = () => {
    tip.hidden = true;
    if (tipFor) tipFor.removeAttribute("aria-describedby");
    tipFor = null;
  };
  if (now) go(); else hideTimer = setTimeout(go, 150);
}
element.addEventListener("mouseover", (e) => {
  const ref = e.target.closest(".qa-lead a.qa-ref[data-n]");
  if (ref && ref !== tipFor) showTip(ref);
});
element.addEventListener("mouseout", (e) => {
  if (e.target.closest(".qa-lead a.qa-ref[data-n]") && !tip.contains(e.relatedTarget)) hideTip(false);
});
element.addEventListener("focusin", (e) => {
  const ref = e.target.closest(".qa-lead a.qa-ref[data-n]");
  if (ref) showTip(ref); else hideTip(true);
});
element.addEventListener("focusout", (e) => {
  if (e.target.closest(".qa-lead a.qa-ref[data-n]")) hideTip(true);
});
tip.addEventListener("mouseenter", () => clearTimeout(hideTimer));
tip.addEventListener("mouseleave", () => hideTip(false));
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !tip.hidden) { hideTip(true); e.stopImmediatePropagation(); }
}, true);
thread()?.addEventListener("scroll", () => hideTip(true), { passive: true });

async function copy(button) {
  const text = button.dataset.copy;
  let done = false;
  try {
    await navigator.clipboard.writeText(text);
    done = true;
  } catch (e) { // not a secure page (an address on the network): the old way
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    try { done = document.execCommand("copy"); } catch (err) { done = false; }
    area.remove();
  }
  button.textContent = done ? "Copied" : "Copy failed";
  const said = button.parentElement.querySelector(".qa-copied");
  if (said) said.textContent = done ? "The answer and its sources are copied." : "Could not copy.";
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
}

element.addEventListener("click", (e) => {
  const ref = e.target.closest(".qa-ref[data-n], .qa-ref[data-read]");
  if (ref) {
    e.preventDefault();
    hideTip(true);
    document.querySelectorAll(".qa-ref.qa-active").forEach((a) => a.classList.remove("qa-active"));
    ref.classList.add("qa-active");
    window.dispatchEvent(new CustomEvent("qa-source-requested"));
    const turn = Number(ref.dataset.turn);
    trigger("qa_cite", ref.dataset.read
      ? { turn: turn, read: Number(ref.dataset.read) } : { turn: turn, n: Number(ref.dataset.n) });
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
  const copier = e.target.closest(".qa-copy");
  if (copier) return void copy(copier);
  if (e.target.closest(".qa-again")) {
    if (window.qaSending()) return;
    window.qaSentAt = Date.now();
    trigger("qa_again", { sources: window.qaSources ? window.qaSources() : null });
    return;
  }
  if (e.target.closest(".qa-edit")) {
    window.qaFocusBox = true;
    trigger("qa_edit", {});
    return;
  }
  const example = e.target.closest(".qa-example");
  if (example && !window.qaSending()) {
    window.qaSentAt = Date.now();
    trigger("qa_example", {
      question: example.textContent, sources: window.qaSources ? window.qaSources() : null,
    });
  }
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
  hideTip(true);
  const root = element.querySelector(".qa-transcript");
  const now = root ? Number(root.dataset.turns) : 0;
  if (now !== count) requestAnimationFrame(scrollToLast);
  count = now;
  if (window.qaFocusAnswer) { // a chat was opened: its newest answer (a new one: the box) takes the focus
    window.qaFocusAnswer = false;
    requestAnimationFrame(() => {
      const answers = element.querySelectorAll(".qa-answer");
      const target = answers[answers.length - 1] || questionBox();
      if (target) {
        if (!target.hasAttribute("tabindex")) target.tabIndex = -1;
        target.focus({ preventScroll: true });
      }
    });
  }
});

// Desktop: ready to type. Phones: no focus, so the keyboard does not cover the page on load.
if (window.matchMedia("(min-width: 768px)").matches) {
  setTimeout(() => document.querySelector("#qa-question textarea")?.focus({ preventScroll: true }), 0);
}

// One question on its way at a time. From the Enter (or click) that sends a question until its
// answer is done (AFTER_JS in page.py calls qaDone), another Enter, Ask or example neither sends
// nor replaces it: the new text stays in the box. Gradio's own "once" guard starts only after
// the event's inputs are gathered, so two quick Enters could both leave, the second's text
// taking the first's place. A send that never shows an answer lets go after SEND_HOLD_MS.
const SEND_HOLD_MS = 10000;
window.qaSentAt = 0;
window.qaSending = () => window.qaSentAt > 0 && (Date.now() - window.qaSentAt < SEND_HOLD_MS
  || document.querySelector("#qa-live .qa-busy") !== null);
window.qaDone = () => { window.qaSentAt = 0; };
let held = false;  // the Enter's keypress follows its keydown: it is held too

// The question is taken from the box at the moment Enter is pressed (or Ask clicked), so text
// typed right after it is never sent in its place, nor wiped (see page.py, TAKE_JS).
document.addEventListener("keydown", (e) => {
  held = false;
  if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.target !== questionBox()) return;
  if (window.qaSending()) {
    held = true;
    e.preventDefault();
    e.stopImmediatePropagation();
  } else if (e.target.value.trim()) {
    window.qaTyped = e.target.value;
    window.qaSentAt = Date.now();
  }
}, true);
document.addEventListener("keypress", (e) => {
  if (held && e.key === "Enter") {
    e.preventDefault();
    e.stopImmediatePropagation();
  }
}, true);
document.addEventListener("click", (e) => {
  if (!e.target.closest || !e.target.closest("#qa-ask")) return;
  const text = questionBox()?.value;
  if (window.qaSending()) {
    e.preventDefault();
    e.stopImmediatePropagation();
  } else if (text && text.trim()) {
    window.qaTyped = text;
    window.qaSentAt = Date.now();
  }
}, true);

// Skip links: each moves the focus to its part of the page (the question box, the chat list's
// tab stop, the documents list's, the source viewer when one is open).
document.addEventListener("click", (e) => {
  const skip = e.target.closest && e.target.closest("a.qa-skip");
  if (!skip) return;
  e.preventDefault();
  const part = document.getElementById(skip.dataset.target);
  const shown = (el) => el.offsetParent !== null && !el.disabled;
  const inside = part ? [...part.querySelectorAll("[tabindex='0']"), ...part.querySelectorAll(
    "input:not([type=hidden]), button, textarea, a[href], [tabindex='-1']")].filter(shown) : [];
  const target = skip.dataset.target === "qa-question" ? questionBox() : inside[0] || part;
  if (!target) return;
  if (target === part && !part.hasAttribute("tabindex")) part.tabIndex = -1;
  target.focus();
});
