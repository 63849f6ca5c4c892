// The wallboard: agents' states and the team's counters, kept current by the server over a WebSocket.
// Time in state is counted here from each state's start; nothing is polled.
(function () {
  "use strict";
  const root = document.getElementById("wallboard");
  if (!root) return;
  const setup = JSON.parse(root.dataset.setup);
  const agents = new Map();  // name → state JSON
  const maxMinutes = new Map(setup.pause_codes.map((p) => [p.code, p.max_minutes]));
  const labels = new Map(setup.pause_codes.map((p) => [p.code, p.label]));
  const lang = document.documentElement.lang || "nl";
  const money = new Intl.NumberFormat(lang === "nl" ? "nl-NL" : "en-GB", {style: "currency", currency: setup.currency});
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const monitoring = new Map();  // agent → the mode this supervisor is on their call in
  let skew = 0;  // the server's clock minus this screen's, so a wrong wall-screen clock shows right times

  function limitMinutes(a) {
    if (a.state === "paused") return maxMinutes.get(a.code) || null;
    if (a.state === "wrap_up") return setup.wrap_up_limit_minutes;
    return null;
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
  }

  function tile(a) {
    const li = document.createElement("li");
    li.className = "wb-agent";
    li.dataset.agent = a.agent;
    for (const [cls, tag] of [["wb-name", "strong"], ["wb-state", "span"], ["wb-time", "span"], ["wb-debtor", "a"]]) {
      const el = document.createElement(tag);
      el.className = cls;
      li.appendChild(el);
    }
    // Listening in: shown while the agent talks (CSS), for a supervisor with a phone of their own.
    const tools = document.createElement("span");
    tools.className = "wb-monitor";
    for (const mode of ["listen", "whisper", "barge", "stop"]) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.mode = mode;
      b.textContent = setup.monitor.modes[mode];
      b.addEventListener("click", () => monitor(a.agent, mode));
      tools.appendChild(b);
    }
    li.appendChild(tools);
    return li;
  }

  function paint(li, a) {
    li.dataset.state = a.state;
    li.querySelector(".wb-name").textContent = a.agent;
    // A pause shows its reason (Lunch, Overleg); the other states their name.
    const text = a.state === "paused" && a.code ? (labels.get(a.code) || a.code) : (setup.states[a.state] || a.state);
    li.querySelector(".wb-state").textContent = text;
    const debtor = li.querySelector(".wb-debtor");
    debtor.textContent = a.debtor_ref || "";
    li.dataset.monitor = monitoring.get(a.agent) || "";
    if (a.state !== "talking" && monitoring.has(a.agent)) monitoring.delete(a.agent);  // the call is over
    if (a.debtor_ref) debtor.href = "/dossiers/" + encodeURIComponent(a.debtor_ref); else debtor.removeAttribute("href");
  }

  function say(text, problem) {
    const el = document.getElementById("wb-monitor-msg");
    el.textContent = text;
    el.dataset.problem = problem ? "true" : "false";
  }

  async function monitor(agent, mode) {
    if (!setup.monitor.phone) { say(setup.monitor.no_phone, true); return; }
    let answer, body = {};
    try {
      answer = await fetch("/api/v1/agents/" + encodeURIComponent(agent) + "/monitor", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify({mode: mode})});
      body = await answer.json();
    } catch (err) { say(String(err), true); return; }
    if (!answer.ok) { say(body.error || String(answer.status), true); return; }
    if (mode === "stop") { monitoring.delete(agent); say(setup.monitor.stopped.replace("{agent}", agent), false); }
    else { monitoring.set(agent, mode); say(setup.monitor.ringing.replace("{agent}", agent) + " (" + setup.monitor.modes[mode] + ")", false); }
    render();
  }

  function render() {
    const list = document.getElementById("wb-agents");
    const offline = [];
    const shown = new Set();
    [...agents.values()].sort((x, y) => x.agent.localeCompare(y.agent)).forEach((a) => {
      if (a.state === "offline") { offline.push(a.agent); return; }
      shown.add(a.agent);
      let li = list.querySelector('li[data-agent="' + CSS.escape(a.agent) + '"]');
      if (!li) li = tile(a);
      list.appendChild(li);  // re-appending keeps the alphabetical order
      paint(li, a);
    });
    list.querySelectorAll("li").forEach((li) => { if (!shown.has(li.dataset.agent)) li.remove(); });
    list.dataset.count = String(shown.size);
    document.getElementById("wb-offline-names").textContent = offline.join(", ") || "–";
    tick();
  }

  function tick() {
    const now = Date.now() + skew;
    document.querySelectorAll("#wb-agents li").forEach((li) => {
      const a = agents.get(li.dataset.agent);
      if (!a || !a.since) return;
      const seconds = (now - Date.parse(a.since)) / 1000;
      li.querySelector(".wb-time").textContent = clock(seconds);
      const limit = limitMinutes(a);
      li.dataset.over = limit !== null && seconds > limit * 60 ? "true" : "false";
    });
    document.getElementById("wb-clock").textContent = new Date(now).toLocaleTimeString(lang, {timeZone: setup.timezone});
  }

  function counters(c) {
    for (const el of root.querySelectorAll("[data-counter]")) {
      const value = c[el.dataset.counter];
      if (value === undefined || value === null) continue;
      el.textContent = el.dataset.money ? money.format(Number(value)) : String(value);
    }
    if (c.queue) {
      for (const [kind, n] of Object.entries(c.queue.kinds)) {
        const el = root.querySelector('[data-queue="' + kind + '"]');
        if (el) el.textContent = String(n);
      }
      root.querySelector('[data-queue="total"]').textContent = c.queue.total + (c.queue.more ? "+" : "");
    }
  }

  function board(b) {
    agents.clear();
    b.agents.forEach((a) => agents.set(a.agent, a));
    if (b.now) skew = Date.parse(b.now) - Date.now();
    counters(b.counters);
    render();
  }

  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/wallboard/ws");
    ws.onopen = () => { root.dataset.live = "up"; };
    ws.onmessage = (e) => {
      let m; try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.type === "board") board(m);
      else if (m.type === "counters") counters(m.counters);
      else if (m.type === "state") { agents.set(m.agent, m); render(); root.dataset.changes = String(Number(root.dataset.changes || 0) + 1); }
    };
    ws.onclose = () => { root.dataset.live = "down"; setTimeout(connect, 2000); };
  }

  board(JSON.parse(root.dataset.board));
  setInterval(tick, 1000);
  connect();
})();
