// The documents panel: each action asks for a confirmation first; a search box filters names.
let query = "";

function filter() {
  const rows = element.querySelectorAll(".qa-docrow");
  let shown = 0;
  for (const row of rows) {
    const hit = !query || row.dataset.search.includes(query);
    row.hidden = !hit;
    shown += hit;
  }
  const none = element.querySelector(".qa-docs-none");
  if (none) none.hidden = shown > 0 || !rows.length;
}

function expand(row, action) {
  for (const box of row.querySelectorAll(".qa-confirm")) {
    box.hidden = box.dataset.action !== action || !box.hidden;
  }
  for (const btn of row.querySelectorAll(".qa-doc-act[aria-expanded]")) {
    const box = row.querySelector(`.qa-confirm[data-action="${btn.dataset.action}"]`);
    btn.setAttribute("aria-expanded", String(Boolean(box && !box.hidden)));
  }
  row.querySelector(".qa-confirm:not([hidden]) .qa-confirm-no")?.focus();
}

element.addEventListener("click", (e) => {
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
    row.querySelector(`.qa-doc-act[data-action="${action}"]`)?.focus();
  }
});

element.addEventListener("input", (e) => {
  if (e.target.id !== "qa-docs-filter") return;
  query = e.target.value.trim().toLowerCase();
  filter();
});

watch("value", () => {
  const box = element.querySelector("#qa-docs-filter");
  if (box && query) box.value = query;
  filter();
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
