// The agent screen: live call over the WebSocket, call controls, notes and the wrap-up.
"use strict";
(function () {
  // What no dossier changes (time zone, negotiation room, texts), then this dossier's own data.
  const data = Object.assign(JSON.parse(document.getElementById("panel-setup").textContent),
                             JSON.parse(document.getElementById("panel-data").textContent));
  const msg = data.messages;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const $ = (id) => document.getElementById(id);
  const panel = $("call");
  let attemptId = null, answeredAt = null, timer = null, clockSkew = 0, callLive = false;

  async function post(url, body) {
    const resp = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body || {}),
    });
    let json = {};
    try { json = await resp.json(); } catch (e) { /* empty body */ }
    return {status: resp.status, ok: resp.ok, json};
  }

  function show(el, on) { el.hidden = !on; }
  function fmt(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const m = Math.floor(s / 60), r = s % 60;
    return (m < 10 ? "0" : "") + m + ":" + (r < 10 ? "0" : "") + r;
  }
  function tick() { $("call-timer").textContent = fmt((Date.now() - clockSkew - answeredAt) / 1000); }
  function stopTimer() { if (timer) { clearInterval(timer); timer = null; } }

  function setState(state, ev) {
    if (panel.dataset.state !== state) panel.dataset.history = ((panel.dataset.history || "") + " " + state).trim();
    panel.dataset.state = state;
    $("call-state").textContent = msg[state] || state;
    const live = ["dialing", "ringing", "answered"].includes(state);
    $("hangup").disabled = !live;
    document.querySelectorAll("button.mark").forEach((b) => { b.disabled = state !== "answered"; });
    if ($("record")) $("record").disabled = state !== "answered";
    callLive = live;
    dialButtons();
    if (ev) {
      $("call-number").textContent = ev.number || "";
      $("call-contact").textContent = ev.contact_ref || "";
      show($("call-withheld"), !!ev.withheld);
      if (ev.attempt_id) { attemptId = ev.attempt_id; $("call-attempt").textContent = msg.attempt + " #" + ev.attempt_id; }
    }
    if (state === "answered") {
      answeredAt = Date.parse(ev && ev.at ? ev.at : new Date().toISOString());
      if (ev && ev.at && !ev.replay) { clockSkew = Date.now() - Date.parse(ev.at); if (Math.abs(clockSkew) < 2000) clockSkew = 0; }
      stopTimer(); tick(); timer = setInterval(tick, 250);
    } else if (state === "ended") {
      stopTimer();
      if (answeredAt && ev && ev.at) $("call-timer").textContent = fmt((Date.parse(ev.at) - answeredAt) / 1000);
      const outcome = ev && ev.outcome ? ev.outcome : "";
      const code = ev && ev.sip_code ? " (" + ev.sip_code + (ev.sip_reason ? " " + ev.sip_reason : "") + ")" : "";
      $("call-outcome").textContent = outcome + code;
      $("call-outcome").dataset.outcome = outcome;
      $("wrapup").classList.add("highlight");
    } else if (state === "dialing") {
      answeredAt = null; stopTimer(); $("call-timer").textContent = "00:00"; $("call-outcome").textContent = "";
      $("call-outcome").dataset.outcome = "";
    }
  }

  // A supervisor on the call: said plainly while it lasts (unless the team monitors silently).
  function monitored(detail) {
    const el = $("call-monitored");
    const texts = JSON.parse(el.dataset.texts);
    el.dataset.mode = detail.mode || "";
    el.textContent = detail.mode ? texts[detail.mode].replace("{supervisor}", detail.supervisor || "") : "";
    show(el, Boolean(detail.mode));
  }

  function onEvent(ev) {
    if (ev.debtor_ref && ev.debtor_ref !== data.debtor_ref && ev.replay) return;
    if (ev.kind === "error") { $("call-error").textContent = (ev.detail && ev.detail.message) || msg.error; show($("call-error"), true); return; }
    if (ev.kind === "agent_state") { agentState.show(ev.detail); return; }
    if (ev.kind === "monitor") { monitored(ev.detail || {}); return; }
    if (ev.kind === "dialing" || ev.kind === "ended") monitored({});
    if (["dialing", "ringing", "answered", "ended"].includes(ev.kind)) {
      if (ev.replay && ev.kind === "ended") { setState("idle"); return; }
      setState(ev.kind, ev);
    }
  }

  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = () => { panel.dataset.live = "up"; show($("call-error"), false); };
    ws.onmessage = (e) => {
      let m; try { m = JSON.parse(e.data); } catch (err) { return; }
      if (m.type === "event") onEvent(m);
    };
    ws.onclose = () => {
      panel.dataset.live = "down";
      $("call-error").textContent = msg.live_lost; show($("call-error"), true);
      setTimeout(connect, 2000);
    };
  }

  // A paused agent is not dialled: the dial buttons wait for Resume (the hint says so).
  function dialButtons() {
    const paused = agentState.paused();
    document.querySelectorAll("button.dial").forEach((b) => {
      b.disabled = callLive || !!data.blocked || paused;
      if (paused) b.title = agentState.msg.dial_paused; else b.removeAttribute("title");
    });
  }

  // --- the agent's own state: pause with a reason, resume ------------------
  const agentState = (function () {
    const box = $("agent-state");
    const text = JSON.parse(box.dataset.messages);
    let current = null, codes = [], ticker = null;
    const clock = new Intl.DateTimeFormat(document.documentElement.lang || "en",
                                          {hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: data.timezone});
    const since = (iso) => clock.format(new Date(iso));
    const fill = (template, values) => template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
    const label = (code) => ((codes.find((c) => c.code === code) || {}).label) || code;
    const limit = (code) => (codes.find((c) => c.code === code) || {}).max_minutes || null;

    function error(message) { $("agent-state-error").textContent = message || ""; show($("agent-state-error"), !!message); }
    function elapsed() {
      if (!current || !current.since) { $("agent-state-time").textContent = "–"; return; }
      const seconds = (Date.now() - clockSkew - Date.parse(current.since)) / 1000;
      const hours = Math.floor(seconds / 3600);
      $("agent-state-time").textContent = (hours > 0 ? hours + ":" : "") + fmt(seconds - hours * 3600);
      const max = current.state === "paused" ? limit(current.code) : null;
      const over = !!max && seconds > max * 60;
      box.dataset.over = over ? "true" : "false";
      $("agent-state-time").title = over ? fill(text.over, {minutes: max}) : "";
    }
    function render() {
      const state = current ? current.state : "offline";
      const paused = state === "paused";
      box.dataset.state = state;
      box.dataset.code = paused ? current.code || "" : "";
      $("agent-state-label").textContent = paused ? label(current.code) : (text[state] || state);
      $("agent-state-since").textContent = !current || !current.since ? ""
        : paused ? fill(text.paused_since, {label: label(current.code), time: since(current.since)})
          : fill(text.since, {time: since(current.since)});
      const onCall = ["dialing", "ringing", "talking"].includes(state);
      show($("pause-form"), !paused); show($("resume"), paused);
      $("pause").disabled = onCall || codes.length === 0;
      $("agent-state-hint").textContent = onCall ? text.on_call : paused ? text.dial_paused : "";
      show($("agent-state-hint"), onCall || paused);
      if (ticker) clearInterval(ticker);
      elapsed(); ticker = setInterval(elapsed, 1000);
      dialButtons();
    }
    let pushed = 0;
    function showState(next) { if (next) { current = next; render(); } }
    function pushedState(next) { pushed += 1; showState(next); }
    async function choose(body) {
      error("");
      $("pause").disabled = true; $("resume").disabled = true;
      const r = await post("/api/v1/agent/state", body);
      $("resume").disabled = false;
      if (!r.ok) { error(r.json.text || r.json.error || text.error); render(); return; }
      showState(r.json);
    }
    async function load() {
      const before = pushed;
      try {
        const resp = await fetch("/api/v1/agent/state", {credentials: "same-origin", headers: {Accept: "application/json"}});
        if (!resp.ok) throw new Error(String(resp.status));
        const json = await resp.json();
        codes = json.pause_codes || [];
        $("pause-code").replaceChildren(...codes.map((c) => {
          const option = document.createElement("option"); option.value = c.code; option.textContent = c.label; return option;
        }));
        // A change pushed while this read was under way is newer than what it returns.
        if (pushed === before) showState(json); else render();
      } catch (e) { error(text.unreachable); }
    }
    $("pause-form").addEventListener("submit", (e) => {
      e.preventDefault();
      choose({state: "paused", code: $("pause-code").value});
    });
    $("resume").addEventListener("click", () => choose({state: "ready"}));
    return {msg: text, show: pushedState, load, paused: () => !!current && current.state === "paused"};
  })();

  document.querySelectorAll("button.dial").forEach((button) => {
    button.addEventListener("click", async () => {
      show($("call-error"), false);
      setState("dialing", {number: button.dataset.number, contact_ref: button.dataset.contact});
      const r = await post("/api/v1/calls", {debtor_ref: data.debtor_ref, number: button.dataset.number});
      if (!r.ok) { $("call-error").textContent = r.json.error || msg.error; show($("call-error"), true); setState("idle"); return; }
      attemptId = r.json.attempt_id;
      $("call-attempt").textContent = msg.attempt + " #" + attemptId;
      const contact = $("contact");
      if (contact) contact.value = button.dataset.contact;
    });
  });
  $("hangup").addEventListener("click", () => post("/api/v1/calls/hangup"));
  document.querySelectorAll("button.mark").forEach((b) => b.addEventListener("click", async () => {
    const r = await post("/api/v1/calls/bookmarks", {kind: b.dataset.kind, label: b.textContent.trim()});
    $("mark-done").textContent = r.ok ? b.textContent.trim() + " @ " + fmt(r.json.offset_s) : (r.json.error || msg.error);
  }));
  if ($("demo-call-in")) $("demo-call-in").addEventListener("click", async () => {
    const r = await post("/api/v1/demo/incoming", {debtor_ref: data.debtor_ref});
    $("call-error").textContent = r.ok ? "" : (r.json.error || msg.error);
    show($("call-error"), !r.ok);
  });
  if ($("record")) $("record").addEventListener("click", async () => {
    const r = await post("/api/v1/calls/recording", {});
    if (r.ok) { $("record").disabled = true; $("record").dataset.recording = "yes"; }
  });

  document.querySelectorAll("#guide .step-toggle").forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll("#guide li").forEach((li) => li.classList.remove("current"));
    b.parentElement.classList.add("current");
    b.parentElement.classList.add("done");
  }));

  $("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = $("note-text").value.trim();
    if (!text) return;
    const r = await post("/api/v1/notes", {debtor_ref: data.debtor_ref, text, attempt_id: attemptId});
    if (r.ok) {
      const li = document.createElement("li");
      const meta = document.createElement("span");
      meta.className = "muted small";
      meta.textContent = data.agent + (attemptId ? " · #" + attemptId : "");
      li.append(meta, document.createElement("br"), document.createTextNode(text));
      $("notes-list").prepend(li);
      $("note-text").value = "";
    }
  });

  // --- wrap-up -------------------------------------------------------------
  const outcome = $("outcome");
  function parts() {
    document.querySelectorAll("#wrapup-form .part").forEach((f) => {
      f.hidden = !f.dataset.for.split(" ").includes(outcome.value);
    });
    const defaults = {refused: "collection_agency", broke_off: "written_reminder"};
    if (defaults[outcome.value]) {
      const radio = document.querySelector('input[name="escalation"][value="' + defaults[outcome.value] + '"]');
      if (radio && !document.querySelector('input[name="escalation"]:checked')) radio.checked = true;
    }
    $("with-agreement").parentElement.hidden = outcome.value !== "complaint_raised";
  }
  outcome.addEventListener("change", parts);
  parts();

  $("add-payment").addEventListener("click", () => {
    const rows = $("payments");
    const row = rows.firstElementChild.cloneNode(true);
    row.querySelectorAll("input").forEach((i) => { i.value = ""; });
    rows.append(row);
  });
  document.querySelectorAll(".objection-callback").forEach((b) => b.addEventListener("click", () => {
    const t = new Date(Date.now() + 86400000);
    const pad = (n) => (n < 10 ? "0" : "") + n;
    $("callback-at").value = t.getFullYear() + "-" + pad(t.getMonth() + 1) + "-" + pad(t.getDate()) + "T16:30";
    outcome.value = "callback"; parts();
  }));

  function collect(confirm) {
    const body = {debtor_ref: data.debtor_ref, outcome: outcome.value, attempt_id: attemptId,
                  contact: $("contact").value || null, note: $("wrapup-note").value || null, confirm: !!confirm,
                  tasks: Array.from(document.querySelectorAll(".objection-task:checked")).map((i) => i.value)};
    const wantsAgreement = outcome.value === "promise_to_pay" ||
      (outcome.value === "complaint_raised" && $("with-agreement").checked);
    if (wantsAgreement) {
      const payments = Array.from(document.querySelectorAll("#payments .payment-row")).map((row) => ({
        amount: row.querySelector(".amount").value.trim().replace(",", "."), due_date: row.querySelector(".due").value,
      })).filter((p) => p.amount || p.due_date);
      const agreement = {payments, discount_pct: $("discount").value || "0",
                         invoices: Array.from(document.querySelectorAll(".inv:checked")).map((i) => i.value)};
      const cond = $("conditional");
      if (cond && cond.value) agreement.conditional_on_complaint = parseInt(cond.value, 10);
      body.agreement = agreement;
    }
    if (outcome.value === "callback") body.callback = {at: $("callback-at").value, note: $("callback-note").value};
    if (outcome.value === "complaint_raised") body.complaint = $("complaint").value;
    const esc = document.querySelector('input[name="escalation"]:checked');
    if (esc && ["refused", "broke_off"].includes(outcome.value)) body.escalation = esc.value;
    return body;
  }

  async function save(confirm) {
    show($("wrapup-error"), false); show($("wrapup-done"), false);
    $("wrapup-save").disabled = true;
    const r = await post("/api/v1/wrapups", collect(confirm));
    $("wrapup-save").disabled = false;
    const box = $("wrapup-warnings");
    if (r.status === 409 && r.json.warnings) {
      $("warnings-title").textContent = msg.warnings;
      const list = box.querySelector("ul"); list.innerHTML = "";
      r.json.warnings.forEach((w) => {
        const li = document.createElement("li"); li.textContent = w.message; li.dataset.code = w.code; list.append(li);
      });
      show(box, true);
      return;
    }
    show(box, false);
    if (!r.ok) { $("wrapup-error").textContent = r.json.error || msg.error; show($("wrapup-error"), true); return; }
    let text = msg.saved;
    if (r.json.email_status === "sent") text += " " + msg.email_sent;
    else if (r.json.email_status === "failed") text += " " + msg.email_failed;
    else if (r.json.email_status === "queued") text += " " + msg.email_queued;
    else if (r.json.email_missing) text += " " + msg.email_missing;
    const done = $("wrapup-done");
    done.textContent = text; done.dataset.agreement = r.json.agreement_id || ""; done.dataset.email = r.json.email_status || "";
    show(done, true);
    $("wrapup").classList.remove("highlight");
  }
  $("wrapup-form").addEventListener("submit", (e) => { e.preventDefault(); save(false); });
  $("confirm-save").addEventListener("click", () => save(true));

  setState("idle");
  agentState.load();
  connect();
})();
