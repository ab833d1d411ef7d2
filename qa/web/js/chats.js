// The list of past chats: open one, start a new one, delete one (after a confirmation).
// Built with textContent only: a chat's title is the user's own text, never markup.
const S = window.qaStore(props.scope);
const root = element.querySelector(".qa-chats") || element;
const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const hour = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
let confirming = "";
let expanded = false;

const make = (tag, cls, text) => {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
};
const when = (ms) => {
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? hour.format(d) : day.format(d);
};
const open = (id) => {
  S.setCurrent(id);
  const raw = S.load(id) || JSON.stringify({ id: id, title: "", turns: [] });
  window.qaFocusAnswer = true; // the chat's newest answer takes the focus once it is shown
  trigger("qa_open_chat", { chat: raw });
};

function render() {
  const chats = S.list();
  const current = S.current();
  root.replaceChildren();
  const head = make("div", "qa-chats-head");
  const toggle = make("button", "qa-chats-toggle");
  toggle.type = "button";
  toggle.setAttribute("aria-expanded", String(expanded));
  toggle.setAttribute("aria-controls", "qa-chat-list");
  toggle.append(make("span", "", "Chats"), make("span", "qa-count", String(chats.length)));
  const title = make("h2", "qa-chats-title", "Chats");
  const fresh = make("button", "qa-btn qa-new-chat", "New chat");
  fresh.type = "button";
  head.append(title, toggle, fresh);
  root.append(head);
  root.classList.toggle("qa-open", expanded);
  const list = make("ul", "qa-chat-list");
  list.id = "qa-chat-list";
  list.setAttribute("aria-label", "Past chats");
  for (const c of chats) {
    const li = make("li", "qa-chat-item" + (c.id === current ? " qa-current" : ""));
    li.dataset.id = c.id;
    if (confirming === c.id) {
      const box = make("div", "qa-confirm");
      box.append(make("p", "", "Delete this chat? It cannot be undone."));
      const yes = make("button", "qa-btn qa-danger qa-chat-del-yes", "Delete");
      const no = make("button", "qa-btn qa-chat-del-no", "Cancel");
      yes.type = no.type = "button";
      box.append(yes, no);
      li.append(make("span", "qa-chat-name", c.title), box);
    } else {
      const btn = make("button", "qa-chat-open");
      btn.type = "button";
      btn.title = c.title;
      if (c.id === current) btn.setAttribute("aria-current", "true");
      btn.append(make("span", "qa-chat-name", c.title), make("span", "qa-chat-when", when(c.updated)));
      const del = make("button", "qa-chat-del");
      del.type = "button";
      del.tabIndex = -1; // reached with the right arrow (or Delete) from its chat
      del.setAttribute("aria-label", "Delete chat: " + c.title);
      del.title = "Delete this chat";
      del.textContent = "×";
      li.append(btn, del);
    }
    list.append(li);
  }
  if (!chats.length) list.append(make("li", "qa-chats-empty", "Your chats are kept in this browser."));
  root.append(list);
  // The list is one tab stop: the open chat (else the first); arrows move within it.
  const opens = [...list.querySelectorAll(".qa-chat-open")];
  opens.forEach((b) => { b.tabIndex = -1; });
  const stop = list.querySelector(".qa-chat-open[aria-current]") || opens[0];
  if (stop) stop.tabIndex = 0;
  if (chats.length) list.setAttribute("aria-describedby", "qa-chats-keys");
  root.append(make("p", "qa-sr", "Up and down arrows move between chats; right arrow or Delete "
    + "offers to delete one."));
  root.lastChild.id = "qa-chats-keys";
}

root.addEventListener("keydown", (e) => {
  const item = e.target.closest && e.target.closest(".qa-chat-item");
  if (!item || e.target.closest(".qa-confirm")) return;
  const opens = [...root.querySelectorAll(".qa-chat-open")];
  const at = opens.indexOf(item.querySelector(".qa-chat-open"));
  let next = null;
  if (e.key === "ArrowDown") next = opens[Math.min(at + 1, opens.length - 1)];
  else if (e.key === "ArrowUp") next = opens[Math.max(at - 1, 0)];
  else if (e.key === "Home") next = opens[0];
  else if (e.key === "End") next = opens[opens.length - 1];
  else if (e.key === "ArrowRight") next = item.querySelector(".qa-chat-del");
  else if (e.key === "ArrowLeft") next = item.querySelector(".qa-chat-open");
  else if (e.key === "Delete") {
    e.preventDefault();
    item.querySelector(".qa-chat-del")?.click();
    return;
  }
  if (!next) return;
  e.preventDefault();
  for (const b of root.querySelectorAll(".qa-chat-open, .qa-chat-del")) b.tabIndex = -1;
  next.tabIndex = 0;
  next.focus();
});

root.addEventListener("click", (e) => {
  const item = e.target.closest(".qa-chat-item");
  const id = item ? item.dataset.id : "";
  if (e.target.closest(".qa-chats-toggle")) {
    expanded = !expanded;
    render();
  } else if (e.target.closest(".qa-new-chat")) {
    open(S.newId());
  } else if (e.target.closest(".qa-chat-open")) {
    expanded = false;
    open(id);
  } else if (e.target.closest(".qa-chat-del")) {
    confirming = id;
    render();
    root.querySelector(".qa-chat-del-no")?.focus();
  } else if (e.target.closest(".qa-chat-del-no")) {
    confirming = "";
    render();
    root.querySelector(`.qa-chat-item[data-id="${CSS.escape(id)}"] .qa-chat-open`)?.focus();
  } else if (e.target.closest(".qa-chat-del-yes")) {
    confirming = "";
    const wasCurrent = id === S.current();
    S.remove(id);
    if (wasCurrent) {
      const next = S.list()[0];
      open(next ? next.id : S.newId());
    }
    (root.querySelector(".qa-chat-open[tabindex='0']") || root.querySelector(".qa-new-chat"))?.focus();
  }
});
window.addEventListener("qa-chats-changed", render);
window.addEventListener("storage", (e) => { if (!e.key || e.key.startsWith("qa-chat/")) render(); });
render();
