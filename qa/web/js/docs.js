// The documents panel: which documents questions go to (check boxes, kept in this browser),
// each action behind a confirmation, a search box over the names, and the list as one tab
// stop: arrow keys move through it (up/down between documents, left/right within one).
const scope = props.scope || "";
const KEY = "qa-chat/v1/" + scope + "/unasked";
let query = "";

// The documents left out (everything else is asked, so a new document is asked at once).
const unasked = () => {
  try { const v = JSON.parse(localStorage.getItem(KEY)); return Array.isArray(v) ? v : []; }
  catch (e) { return []; }
};
const keep = (list) => { try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* full */ } };
const sourceOf = (el) => JSON.parse(el.dataset.source);

// What the question box sends: null (every document) or the names ticked.
window.qaSources = () => {
  const boxes = [...element.querySelectorAll(".qa-ask-doc")];
  if (!boxes.length || boxes.every((b) => b.checked)) return null;
  return boxes.filter((b) => b.checked).map(sourceOf);
};

function showScope() {
  const boxes = [...element.querySelectorAll(".qa-ask-doc")];
  const asked = boxes.filter((b) => b.checked).length;
  const all = asked === boxes.length;
  const count = element.querySelector(".qa-ask-count");
  if (count) {
    count.textContent = boxes.length === 1 && all ? "Questions go to the one document."
      : all ? `Questions go to all ${boxes.length} documents.`
        : `Questions go to ${asked} of ${boxes.length} documents.`;
  }
  const every = element.querySelector(".qa-ask-all");
  if (every) every.hidden = all;
  // Beside the question box too, so a filter is never forgotten.
  const line = document.querySelector("#qa-scope .qa-scope");
  if (line) {
    line.hidden = all;
    const what = line.querySelector(".qa-scope-text");
    if (what) {
      what.textContent = asked === 0
        ? "No document is ticked: tick one in the documents panel to ask it."
        : `Asking ${asked} of ${boxes.length} documents.`;
    }
  }
}

function applyChoice() {
  const left = new Set(unasked());
  for (const b of element.querySelectorAll(".qa-ask-doc")) b.checked = !left.has(sourceOf(b));
  showScope();
}

function askAll() {
  keep([]);
  applyChoice();
}
window.qaAskAll = askAll;

// Roving tab stop: one control of the list is in the tab order, the last one used.
const rows = () => [...element.querySelectorAll(".qa-docrow:not([hidden])")];
const controls = (row) => [...row.querySelectorAll("input, button")].filter(
  (c) => !c.disabled && c.offsetParent !== null);
function rove(target) {
  for (const c of element.querySelectorAll(".qa-doclist input, .qa-doclist button")) c.tabIndex = -1;
  if (target) target.tabIndex = 0;
}
function resetRove() {
  const current = element.querySelector(".qa-doclist [tabindex='0']");
  if (current && current.offsetParent !== null) return rove(current);
  const first = rows()[0];
  rove(first ? controls(first)[0] : null);
}

element.addEventListener("keydown", (e) => {
  const row = e.target.closest && e.target.closest(".qa-docrow");
  if (!row || !["ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
  const all = rows();
  const here = controls(row);
  const col = Math.max(0, here.indexOf(e.target));
  let next = null;
  if (e.key === "ArrowRight") next = here[Math.min(col + 1, here.length - 1)];
  else if (e.key === "ArrowLeft") next = here[Math.max(col - 1, 0)];
  else {
    const i = all.indexOf(row);
    const to = e.key === "Home" ? 0 : e.key === "End" ? all.length - 1
      : Math.min(Math.max(i + (e.key === "ArrowDown" ? 1 : -1), 0), all.length - 1);
    const there = controls(all[to]);
    next = there[Math.min(col, there.length - 1)];
  }
  if (next) {
    e.preventDefault();
    rove(next);
    next.focus();
  }
});
element.addEventListener("focusin", (e) => {
  if (e.target.closest && e.target.closest(".qa-doclist") && e.target.matches("input, button")) rove(e.target);
});

function filter() {
  const all = element.querySelectorAll(".qa-docrow");
  let shown = 0;
  for (const row of all) {
    const hit = !query || row.dataset.search.includes(query);
    row.hidden = !hit;
    shown += hit;
  }
  const none = element.querySelector(".qa-docs-none");
  if (none) none.hidden = shown > 0 || !all.length;
  resetRove();
}

function expand(row, action) {
  for (const box of row.querySelectorAll(".qa-confirm")) {
    box.hidden = box.dataset.action !== action || !box.hidden;
  }
  for (const btn of row.querySelectorAll(".qa-doc-act[aria-expanded]")) {
    const box = row.querySelector(`.qa-confirm[data-action="${btn.dataset.action}"]`);
    btn.setAttribute("aria-expanded", String(Boolean(box && !box.hidden)));
  }
  const no = row.querySelector(".qa-confirm:not([hidden]) .qa-confirm-no");
  if (no) { rove(no); no.focus(); }
}

element.addEventListener("click", (e) => {
  if (e.target.closest(".qa-ask-all")) return askAll();
  const act = e.target.closest(".qa-doc-act");
  if (act && act.dataset.action === "index") {
    act.disabled = true;
    trigger("qa_doc_action", { action: "index", source: JSON.parse(act.dataset.source) });
  } else if (act) {
    expand(act.closest(".qa-docrow"), act.dataset.action);
  }
  const yes = e.target.closest(".qa-confirm-yes");
  if (yes) {
    yes.disabled = true;
    yes.textContent = "Working…";
    trigger("qa_doc_action", { action: yes.dataset.action, source: JSON.parse(yes.dataset.source) });
  }
  const no = e.target.closest(".qa-confirm-no");
  if (no) {
    const row = no.closest(".qa-docrow");
    const action = no.closest(".qa-confirm").dataset.action;
    expand(row, "");
    const back = row.querySelector(`.qa-doc-act[data-action="${action}"]`);
    if (back) { rove(back); back.focus(); }
  }
});

element.addEventListener("change", (e) => {
  if (!e.target.classList.contains("qa-ask-doc")) return;
  const name = sourceOf(e.target);
  const left = new Set(unasked());
  if (e.target.checked) left.delete(name); else left.add(name);
  keep([...left]);
  showScope();
});

element.addEventListener("input", (e) => {
  if (e.target.id !== "qa-docs-filter") return;
  query = e.target.value.trim().toLowerCase();
  filter();
});

watch("value", () => {
  const box = element.querySelector("#qa-docs-filter");
  if (box && query) box.value = query;
  applyChoice();
  filter();
});

document.addEventListener("click", (e) => {
  if (e.target.closest && e.target.closest("#qa-scope .qa-scope-all")) askAll();
});

// Gradio's upload button is named "Click to upload or drop files" but shows "Drop File Here -
// or - Click to Upload": without the label, what it shows is its name (for speech input too).
const side = document.getElementById("qa-side") || document.body;
const nameUpload = () => {
  for (const b of side.querySelectorAll("#qa-upload button.upload-container[aria-label]")) {
    b.removeAttribute("aria-label");
  }
};
new MutationObserver(nameUpload).observe(side, {
  subtree: true, childList: true, attributes: true, attributeFilter: ["aria-label"],
});
nameUpload();
