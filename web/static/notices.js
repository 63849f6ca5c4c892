// Notices for the logged-in user on every page: call-back reminders, call-backs due, incoming callers,
// refusals and team escalations, pushed over the same WebSocket as the live call.
(function () {
  "use strict";
  const box = document.getElementById("notices");
  if (!box || !window.WebSocket) return;
  const labels = JSON.parse(box.dataset.labels || "{}");
  const SHOWN = ["reminder", "callback_due", "callback_released", "incoming", "refused", "escalation", "block"];

  function notice(ev) {
    const item = document.createElement("div");
    item.className = "notice notice-" + ev.kind;
    item.setAttribute("role", "status");
    const what = document.createElement("strong");
    what.textContent = labels[ev.kind] || ev.kind;
    item.appendChild(what);
    const text = (ev.detail && (ev.detail.message || ev.detail.note)) || "";
    if (text) item.appendChild(document.createTextNode(" " + text));
    if (ev.debtor_ref) {
      const link = document.createElement("a");
      link.href = "/dossiers/" + encodeURIComponent(ev.debtor_ref);
      link.textContent = " " + ev.debtor_ref;
      item.appendChild(link);
    }
    const close = document.createElement("button");
    close.type = "button"; close.className = "link"; close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.appendChild(close);
    box.prepend(item);
  }

  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onmessage = (e) => {
      let m; try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.type === "event" && !m.replay && SHOWN.includes(m.kind)) notice(m);
    };
    ws.onclose = () => setTimeout(connect, 3000);
  }
  connect();
})();
