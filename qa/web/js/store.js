// The chats kept in this browser (localStorage), so each user of a server sees only their own:
// one key per chat, an index of them (newest first) and the chat last open. Defined once.
window.qaStore = window.qaStore || function (scope) {
  const P = "qa-chat/v1/" + scope + "/";
  const read = (key) => {
    try { return JSON.parse(localStorage.getItem(P + key)); } catch (e) { return null; }
  };
  const list = () => {
    const v = read("index");
    return Array.isArray(v) ? v.filter((c) => c && typeof c.id === "string") : [];
  };
  const changed = () => window.dispatchEvent(new CustomEvent("qa-chats-changed"));
  // A full storage gives up the oldest other chats, one at a time, before it gives up this one.
  const write = (key, text) => {
    for (let tries = 0; tries < 100; tries++) {
      try { localStorage.setItem(P + key, text); return true; } catch (e) { /* full */ }
      const all = list();
      const victim = all.filter((c) => "chat/" + c.id !== key && c.id !== store.current()).pop();
      if (!victim) return false;
      localStorage.removeItem(P + "chat/" + victim.id);
      localStorage.setItem(P + "index", JSON.stringify(all.filter((c) => c.id !== victim.id)));
    }
    return false;
  };
  const store = {
    list,
    current: () => localStorage.getItem(P + "current") || "",
    setCurrent(id) { try { localStorage.setItem(P + "current", id); } catch (e) { /* full */ } changed(); },
    load: (id) => localStorage.getItem(P + "chat/" + id),
    newId() {
      const b = new Uint8Array(8);
      crypto.getRandomValues(b);
      return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    },
    save(text) {
      let chat = null;
      try { chat = JSON.parse(text); } catch (e) { return; }
      if (!chat || typeof chat.id !== "string" || !Array.isArray(chat.turns) || !chat.turns.length) return;
      if (localStorage.getItem(P + "chat/" + chat.id) === text) return;
      if (!write("chat/" + chat.id, text)) {
        console.warn("qa: this browser's storage is full; the chat is not kept");
        return;
      }
      const entry = { id: chat.id, title: chat.title || "Untitled chat", updated: Date.now() };
      write("index", JSON.stringify([entry, ...list().filter((c) => c.id !== chat.id)]));
      store.setCurrent(chat.id);
    },
    remove(id) {
      localStorage.removeItem(P + "chat/" + id);
      write("index", JSON.stringify(list().filter((c) => c.id !== id)));
      changed();
    },
  };
  return store;
};
