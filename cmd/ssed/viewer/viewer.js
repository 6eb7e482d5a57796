// The ssed viewer: subscribes to this page's own channel with EventSource and
// shows events as they come. Event content is only ever set as text, never
// as HTML. The stream is requested with envelope=1, so every event arrives
// as a `message` carrying its real type: EventSource would otherwise hand
// named events only to listeners registered for those names in advance.
"use strict";

const MAX_ROWS = 2000;       // rows kept in the page; older ones are dropped
const MAX_SEEN_IDS = 10000;  // ids remembered to drop duplicates after a reconnect

const $ = (id) => document.getElementById(id);
const rows = $("rows"), scroller = $("scroller");
const state = { paused: false, held: [], seen: new Set(), seenOrder: [], types: new Set(), lastId: null,
  reconnects: 0, opened: false, arrivals: [], follow: true };

function streamUrl() {
  const params = new URLSearchParams(location.search);
  params.set("envelope", "1");
  return location.pathname + "?" + params.toString();
}

function setStatus(kind, text) {
  const s = $("status");
  s.className = "status " + kind;
  $("status-text").textContent = text;
}

// An event without an id field of its own carries the previous event's id,
// so only an id that changes is the event's own and marks an event that may
// have been shown before. Returns "duplicate", "own" or "inherited".
function classify(id) {
  const own = id !== state.lastId;
  state.lastId = id;
  if (!id || !own) return "inherited";
  if (state.seen.has(id)) return "duplicate";
  state.seen.add(id);
  state.seenOrder.push(id);
  if (state.seenOrder.length > MAX_SEEN_IDS) state.seen.delete(state.seenOrder.shift());
  return "own";
}

function dataCell(data) {
  const td = document.createElement("td");
  td.className = "data";
  let parsed;
  try { parsed = JSON.parse(data); } catch (e) { parsed = undefined; }
  if (parsed !== undefined && parsed !== null && typeof parsed === "object") {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = JSON.stringify(parsed);
    const pre = document.createElement("div");
    pre.textContent = JSON.stringify(parsed, null, 2);
    details.append(summary, pre);
    td.append(details);
  } else {
    td.textContent = data;
  }
  return td;
}

function cell(cls, text) {
  const td = document.createElement("td");
  td.className = cls;
  td.textContent = text;
  return td;
}

function matches(tr) {
  const text = $("filter").value.toLowerCase();
  const type = $("type-filter").value;
  if (type && tr.dataset.type !== type) return false;
  return !text || tr.dataset.search.includes(text);
}

function addType(type) {
  if (state.types.has(type)) return;
  state.types.add(type);
  const option = document.createElement("option");
  option.value = type;
  option.textContent = type;
  $("type-filter").append(option);
}

function show(ev) {
  const tr = document.createElement("tr");
  tr.dataset.type = ev.type;
  tr.dataset.search = (ev.type + " " + ev.id + " " + ev.data).toLowerCase();
  if (ev.type === "ssed-gap") tr.className = "notice";
  tr.append(cell("time", ev.time.toLocaleTimeString()), cell("type", ev.type), cell("id", ev.id), dataCell(ev.data));
  tr.hidden = !matches(tr);
  rows.append(tr);
  addType(ev.type);
  while (rows.children.length > MAX_ROWS) rows.firstElementChild.remove();
  updateCount();
  if (state.follow) scroller.scrollTop = scroller.scrollHeight;
  else $("jump").hidden = false;
}

function updateCount() {
  const held = state.held.length ? ` (${state.held.length} waiting)` : "";
  $("count").textContent = `${rows.children.length} shown${held}`;
}

function receive(msg) {
  const kind = classify(msg.lastEventId);
  if (kind === "duplicate") return; // already shown before a reconnect
  let type = "message", data = msg.data;
  try {
    const env = JSON.parse(msg.data);
    if (env && typeof env.type === "string" && typeof env.data === "string") { type = env.type; data = env.data; }
  } catch (e) { /* not an envelope: show as sent */ }
  state.arrivals.push(performance.now());
  const ev = { time: new Date(), type, id: kind === "own" ? msg.lastEventId : "", data };
  if (state.paused) { state.held.push(ev); updateCount(); }
  else show(ev);
}

function connect() {
  const es = new EventSource(streamUrl());
  es.onopen = () => {
    if (state.opened) state.reconnects++;
    state.opened = true;
    setStatus("live", state.reconnects ? `live (reconnected ${state.reconnects}×)` : "live");
  };
  es.onmessage = receive;
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) setStatus("closed", "closed");
    else setStatus("reconnecting", `reconnecting (${state.reconnects + 1})`);
  };
}

function setup() {
  const channel = decodeURIComponent(location.pathname) + (location.search ? location.search : "");
  $("channel").textContent = channel;
  document.title = "ssed " + channel;
  const refilter = () => { for (const tr of rows.children) tr.hidden = !matches(tr); };
  $("filter").addEventListener("input", refilter);
  $("type-filter").addEventListener("change", refilter);
  $("pause").addEventListener("click", () => {
    state.paused = !state.paused;
    $("pause").textContent = state.paused ? "Resume" : "Pause";
    $("pause").classList.toggle("on", state.paused);
    if (!state.paused) { const held = state.held; state.held = []; held.forEach(show); updateCount(); }
  });
  $("clear").addEventListener("click", () => { rows.replaceChildren(); updateCount(); });
  scroller.addEventListener("scroll", () => {
    state.follow = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 8;
    if (state.follow) $("jump").hidden = true;
  });
  $("jump").addEventListener("click", () => { scroller.scrollTop = scroller.scrollHeight; });
  setInterval(() => {
    const now = performance.now();
    while (state.arrivals.length && state.arrivals[0] < now - 1000) state.arrivals.shift();
    $("rate").textContent = `${state.arrivals.length} events/s`;
  }, 500);
  updateCount();
  connect();
}

setup();
