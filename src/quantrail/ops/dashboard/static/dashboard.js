// The quantrail desk page: renders the server's desk state (JSON over server-sent events).
// Every value goes into the page as text (textContent), never as HTML.
"use strict";

let state = null;
const nsToDate = (ns) => new Date(Number(ns) / 1e6);

function timeText(ns) {
  if (!ns) return "—";
  return nsToDate(ns).toLocaleTimeString("en-US", { timeZone: state.timezone, hour12: false });
}

function fillTable(table, rows) {
  const body = table.tBodies[0] || table.createTBody();
  body.replaceChildren(...rows.map(([cells, cls]) => {
    const tr = document.createElement("tr");
    if (cls) tr.className = cls;
    for (const cell of cells) {
      const td = document.createElement("td");
      td.textContent = cell === null || cell === undefined || cell === "" ? "—" : String(cell);
      tr.appendChild(td);
    }
    return tr;
  }));
}

const pct = (v) => (v === null || v === undefined ? "—" : Number(v).toFixed(1));

function accountSection(name) {
  const id = "acct-" + name;
  let section = document.getElementById(id);
  if (!section) {
    section = document.getElementById("account-template").content.firstElementChild.cloneNode(true);
    section.id = id;
    section.dataset.account = name;
    section.querySelector(".account-name").textContent = name;
    document.getElementById("accounts").appendChild(section);
  }
  return section;
}

function renderKill(el, kill) {
  el.classList.toggle("active", kill.active);
  if (kill.active) {
    el.textContent = `KILL SWITCH ACTIVE since ${timeText(kill.since_ns)} — by ${kill.by} ` +
      `(${kill.trigger}): ${kill.reason}` + (kill.flatten ? " — flattening" : "");
  } else if (kill.reset_by) {
    el.textContent = `kill switch: off — reset by ${kill.reset_by} at ${timeText(kill.since_ns)}: ${kill.reset_reason}`;
  } else {
    el.textContent = "kill switch: off";
  }
}

// Exchange-local wall time ("2024-03-15 09:30:00"): plotly would draw a Date in the browser's zone.
const exchangeTime = (ns) => nsToDate(ns).toLocaleString("sv-SE", { timeZone: state.timezone });

function renderChart(el, acct) {
  const x = acct.exposure.ts_ns.map(exchangeTime);
  const highest = Math.max(0, ...acct.exposure.gross_pct, ...acct.exposure.potential_pct);
  const line = (name, y, color, dash) => ({ x, y, name, type: "scatter", mode: "lines",
    line: { color, width: dash ? 1.5 : 2, dash: dash || "solid", shape: "hv" } });
  const lim = state.limits;
  const traces = [
    line("gross %", acct.exposure.gross_pct, "#1f4e99"),
    line("long %", acct.exposure.long_pct, "#2e8b57"),
    line("short %", acct.exposure.short_pct, "#c0392b"),
    line("potential %", acct.exposure.potential_pct, "#7f5fbf", "dot"),
    line("phase tolerance %", acct.exposure.tolerance_pct, "#b45309", "dash"),
  ];
  const hline = (y, text, color) => ({ type: "line", xref: "paper", x0: 0, x1: 1, y0: y, y1: y,
    line: { color, width: 1, dash: "dashdot" }, label: { text, textposition: "end", font: { size: 10, color } } });
  const layout = {
    margin: { l: 40, r: 10, t: 24, b: 30 }, height: 300,
    title: { text: "exposure % of equity", font: { size: 12 } },
    legend: { orientation: "h", y: -0.15 },
    yaxis: { range: [0, Math.max(state.limits.hard_cap_pct, highest) + 10], title: { text: "%" } },
    xaxis: { visible: x.length > 0 },
    annotations: x.length ? [] : [{ text: "no exposure snapshot yet", xref: "paper", yref: "paper",
      x: 0.5, y: 0.5, showarrow: false, font: { size: 13, color: "#6b7280" } }],
    shapes: [hline(lim.close_limit_pct, `${lim.close_limit_pct}% overnight`, "#6b7280"),
             hline(lim.derisk_pct, `${lim.derisk_pct}% de-risk`, "#d97706"),
             hline(lim.hard_cap_pct, `${lim.hard_cap_pct}% hard cap`, "#b91c1c")],
  };
  Plotly.react(el, traces, layout, { displayModeBar: false, responsive: true });
}

function renderAccount(acct) {
  const s = accountSection(acct.name);
  const mode = s.querySelector(".mode");
  mode.textContent = acct.mode;
  mode.className = "mode " + acct.mode;
  s.querySelector(".mode-reason").textContent = acct.mode_reason +
    (acct.mode_since_ns ? ` (since ${timeText(acct.mode_since_ns)})` : "");
  renderKill(s.querySelector(".kill"), acct.kill);
  renderChart(s.querySelector(".chart"), acct);
  const p = acct.pnl;
  s.querySelector(".pnl-source").textContent = p.source;
  fillTable(s.querySelector("table.pnl"), p.source === "none" ? [[[p.note, ""]]] : [
    [["intraday realized", p.realized_intraday]], [["baseline realized", p.baseline]],
    [["unrealized", p.unrealized]], [["fees", p.fees]], [["total", p.total]],
    ...(p.note ? [[[p.note, ""]]] : []),
  ]);
  fillTable(s.querySelector("table.buckets"), Object.entries(acct.buckets).map(([name, b]) =>
    [[name, pct(b.current_pct), pct(b.potential_pct), pct(b.target_pct), pct(b.max_pct)]]));
  fillTable(s.querySelector("table.groups"), Object.entries(acct.groups).map(([name, g]) =>
    [[name, g.long, g.short, pct(g.gross_pct)]]));
  fillTable(s.querySelector("table.orders"), acct.orders.map((o) =>
    [[o.order_id, o.symbol, o.side, o.qty, o.filled, o.limit || "MKT", o.bucket, o.status]]));
  fillTable(s.querySelector("table.positions"), acct.positions.map((q) =>
    [[q.symbol, q.bucket, q.qty, q.entry, q.price, q.unrealized]]));
}

function render() {
  document.getElementById("namespace").textContent = "namespace " + state.namespace;
  document.getElementById("phase").textContent = "phase " + (state.phase || "—") +
    (state.limits.tolerance_pct ? ` · tolerance ${state.limits.tolerance_pct}%` : "");
  document.getElementById("feed-error").textContent = state.feed_error;
  state.accounts.forEach(renderAccount);
  const select = document.getElementById("action-account");
  const names = state.accounts.map((a) => a.name);
  if ([...select.options].map((o) => o.value).join() !== names.join()) {
    const chosen = select.value;
    select.replaceChildren(...names.map((n) => new Option(n, n)));
    if (names.includes(chosen)) select.value = chosen;
  }
  fillTable(document.getElementById("alerts"), state.alerts.map((a) =>
    [[timeText(a.ts_ns), a.severity, a.account || "—", a.message], a.severity]));
  fillTable(document.getElementById("streams"), state.streams.map((r) =>
    [[r.stream, r.length, r.groups, r.pending, r.lag]]));
  fillTable(document.getElementById("health"), state.health.map((h) =>
    [[h.service, h.status, timeText(h.ts_ns), h.uptime_s + " s"], h.status === "HEALTHY" ? "" : "WARNING"]));
  document.getElementById("dead-letters").textContent = `${state.dead_letters} dead letters`;
  document.getElementById("actions-mode").textContent =
    state.actions_enabled ? "enabled with the token" : "read-only (no token configured)";
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/events");
  source.onopen = () => { live.textContent = "live"; live.className = "tag on"; };
  source.onerror = () => { live.textContent = "reconnecting…"; live.className = "tag off"; };
  source.onmessage = (message) => {
    state = JSON.parse(message.data);
    render();
    document.body.dataset.version = state.version;
  };
}

async function act(path, extra) {
  const status = document.getElementById("action-status");
  const token = document.getElementById("token").value;
  const body = { by: document.getElementById("action-by").value,
    reason: document.getElementById("action-reason").value, ...extra };
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  status.className = "";
  status.textContent = "sending…";
  try {
    const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
    const reply = await response.json();
    status.className = response.ok ? "done" : "refused";
    status.textContent = response.ok ? reply.message : `${response.status}: ${reply.error}`;
  } catch (error) {
    status.className = "refused";
    status.textContent = "failed: " + error;
  }
}

const account = () => document.getElementById("action-account").value;
document.getElementById("btn-activate").onclick = () => act("/api/killswitch/activate",
  { account: account(), flatten: document.getElementById("action-flatten").checked });
document.getElementById("btn-reset").onclick = () => act("/api/killswitch/reset", { account: account() });
document.getElementById("btn-dlq").onclick = () => act("/api/dlq/retry", { all: true });
connect();
