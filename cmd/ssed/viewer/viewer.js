// The ssed viewer: subscribes to this page's own channel with EventSource and
// shows events as they come. Event content is only ever set as text, never
// as HTML. The stream is requested with envelope=1, so every event arrives
// as a `message` carrying its real type: EventSource would otherwise hand
// named events only to listeners registered for those names in advance.
//
// The page must keep up with thousands of events a second and stay
// responsive: an event only costs a parse and a push when it arrives; rows
// are built once per animation frame, in one fragment, for at most MAX_ROWS
// events; the oldest rows go in one operation; layout is read at most once
// a frame (to follow the newest row). Every buffer is bounded.
"use strict";

const MAX_ROWS = 2000;       // rows kept in the page, and events kept while paused
const MAX_SEEN_IDS = 10000;  // ids remembered to recognise a replay after a reconnect
const CHUNK_ROWS = 50;       // rows in each tbody of the table
const CLIP_CHARS = 2000;     // data longer than this shows its start until expanded
const CLIP_LINES = 5;        // and so does data of more lines than this

const $ = (id) => document.getElementById(id);
const table = $("events"), scroller = $("scroller");
const clock = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" });
const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
const fullTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const state = {
  paused: false,
  pending: [],        // received, to be shown at the next frame
  held: [],           // received while paused
  heldDropped: 0,     // received while paused and dropped: only the newest MAX_ROWS are kept
  frame: 0,           // the requested animation frame, or 0
  rowCount: 0,
  filterText: "", filterType: "",
  seen: new Set(),    // own ids received, oldest first, at most MAX_SEEN_IDS
  lastId: null,       // the stream's last event id, own or inherited
  lastOwnId: "",      // the last id an event carried itself
  replay: null,       // after a reconnect: { last, skipping } until a new id arrives
  types: new Set(), withChannel: false, firstChannel: null, withDate: false,
  multiChannel: new URLSearchParams(location.search).has("channels"),
  reconnects: 0, opened: false, received: 0, rateSamples: [], follow: true, countText: "",
};

// The stream is this page's own URL with envelope=1: a relative URL, so it
// also works behind a proxy that serves ssed under a path prefix.
function streamUrl() {
  const params = new URLSearchParams(location.search);
  params.set("envelope", "1");
  return "?" + params.toString();
}

function setStatus(kind, text) {
  const s = $("status");
  s.className = "status " + kind;
  $("status-text").textContent = text;
}

// An event without an id field of its own carries the previous event's id,
// so only an id that changes is the event's own.
function ownId(id) {
  const own = id !== state.lastId;
  state.lastId = id;
  return own && id ? id : "";
}

function remember(id) {
  state.lastOwnId = id;
  if (state.seen.has(id)) return;
  state.seen.add(id);
  if (state.seen.size > MAX_SEEN_IDS) state.seen.delete(state.seen.values().next().value);
}

// After a reconnect the server may send again what was shown before the
// disconnect (ssed sends its whole history when it no longer knows the
// Last-Event-ID). Until an id not received before arrives, or the last one
// received before the disconnect, an event carrying an id received before
// is a replay, and so is an event without an id that follows one. A later
// event reusing an id (a publisher's `id: deploy`) is shown as any other.
function isReplay(id) {
  const r = state.replay;
  if (!r) return false;
  if (!id) return r.skipping;
  if (!state.seen.has(id)) { state.replay = null; return false; }
  r.skipping = true;
  if (id === r.last) state.replay = null;
  return true;
}

// Whether data is too long to show whole in its row: more than CLIP_CHARS,
// or more than CLIP_LINES lines.
function isLong(data) {
  if (data.length > CLIP_CHARS) return true;
  let lines = 1;
  for (let at = data.indexOf("\n"); at >= 0; at = data.indexOf("\n", at + 1))
    if (++lines > CLIP_LINES) return true;
  return false;
}

function sizeText(n) {
  return n < 1024 ? `${n} characters` : `${Math.round(n / 1024)} KiB`;
}

// JSON objects and arrays show on one line, after a marker that says they
// expand, and expand pretty-printed; the pretty form is made only when a
// row is first expanded (see expand). Other long data shows its first
// lines and a button that shows it whole (see toggleLong): a 600 KiB line
// must not fill the screen, nor cost the layout of 600 KiB until asked.
function dataCell(data) {
  const td = document.createElement("td");
  td.className = "data";
  let parsed;
  const c = data.charCodeAt(0);
  if (c === 123 || c === 91) { // only "{" or "[" can start an object worth expanding
    try { parsed = JSON.parse(data); } catch (e) { parsed = undefined; }
  }
  if (parsed !== undefined && parsed !== null && typeof parsed === "object") {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = data.length > CLIP_CHARS ? data.slice(0, CLIP_CHARS) + "\u2026" : data;
    summary.title = "click to expand";
    details.append(summary);
    td.append(details);
  } else if (isLong(data)) {
    const clip = document.createElement("span");
    clip.className = "clip";
    clip.textContent = data.slice(0, CLIP_CHARS);
    const more = document.createElement("button");
    more.type = "button";
    more.className = "more";
    more.textContent = `show all (${sizeText(data.length)})`;
    td.append(clip, more);
  } else {
    td.textContent = data;
  }
  return td;
}

// A click on a row's summary, before it opens: add the pretty-printed data.
function expand(e) {
  const summary = e.target.closest && e.target.closest("td.data summary");
  if (!summary || summary.nextElementSibling) return;
  const pre = document.createElement("div");
  pre.textContent = JSON.stringify(JSON.parse(summary.closest("tr").ssedEvent.data), null, 2);
  summary.after(pre);
}

// A click on a long value's button, or on its clipped start: show it whole,
// or its start again.
function toggleLong(e) {
  const target = e.target.closest && e.target.closest("td.data .more, td.data:not(.expanded) .clip");
  if (!target) return;
  const td = target.closest("td.data"), more = td.querySelector(".more");
  const data = td.closest("tr").ssedEvent.data;
  const expanded = td.classList.toggle("expanded");
  td.querySelector(".clip").textContent = expanded ? data : data.slice(0, CLIP_CHARS);
  more.textContent = expanded ? "show less" : `show all (${sizeText(data.length)})`;
}

// ssed's own ids are the time the event was published, in microseconds
// since the epoch (16 digits): a page that opens on a replay, or reconnects
// to one, shows when each event happened. An id its publisher chose gives
// no time, nor does one that would be more than a day ahead of this clock.
function publishTime(id) {
  if (id.length !== 16 || !/^[0-9]{16}$/.test(id)) return 0;
  const ms = Number(id.slice(0, 13));
  return ms <= Date.now() + 86400000 ? ms : 0;
}

// The time shown: the day too when it is not today.
function timeCell(ev) {
  const td = cell("time", clock.format(ev.time));
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  if (ev.time < today.getTime()) {
    td.textContent = `${day.format(ev.time)}, ${td.textContent}`;
    if (!state.withDate) {
      state.withDate = true;
      table.classList.add("with-date");
    }
  }
  td.title = `${ev.published ? "published" : "received"} ${fullTime.format(ev.time)}`;
  return td;
}

// ssed's notice that events the stream asked for are gone, in words: its
// data is {"last_event_id": what was asked for, "oldest_retained_id": the
// first event still held, or null}.
function gapText(data, channel) {
  let gap;
  try { gap = JSON.parse(data); } catch (e) { return data; }
  if (!gap || typeof gap !== "object") return data;
  const where = channel ? ` on ${channel}` : "";
  let text = typeof gap.last_event_id === "string"
    ? `Events missed${where}: the events after id ${gap.last_event_id} are no longer held`
    : `Events missed${where}: some events are no longer held`;
  const oldest = gap.oldest_retained_id;
  if (typeof oldest === "string") {
    const t = publishTime(oldest);
    text += `; what follows starts at the oldest still held, id ${oldest}` +
      (t ? ` (published ${fullTime.format(t)})` : "");
  } else {
    text += "; none are held, so what follows is new";
  }
  return text + ".";
}

function cell(cls, text) {
  const td = document.createElement("td");
  td.className = cls;
  td.textContent = text;
  return td;
}

function matches(ev) {
  if (state.filterType && ev.type !== state.filterType) return false;
  return !state.filterText || ev.search.includes(state.filterText);
}

// The type menu lists at most this many types: a stream whose types carry
// unique values (a request id) must not grow the page without bound. The
// text filter still finds the rest.
const MAX_TYPES = 200;

function addType(type) {
  if (state.types.has(type) || state.types.size >= MAX_TYPES) return;
  state.types.add(type);
  const option = document.createElement("option");
  option.value = type;
  option.textContent = type;
  $("type-filter").append(option);
}

function rowFor(ev) {
  const tr = document.createElement("tr");
  ev.search = (ev.channel + " " + ev.type + " " + ev.id + " " + ev.data).toLowerCase();
  tr.ssedEvent = ev;
  if (ev.notice) tr.className = "notice";
  const id = cell("id", ev.id);
  if (ev.id) id.title = ev.id;
  tr.append(timeCell(ev), cell("channel", ev.channel), cell("type", ev.type), id, dataCell(ev.data));
  tr.hidden = !matches(ev);
  return tr;
}

// The rows are held in tbody chunks of at most CHUNK_ROWS, so the browser
// can skip chunks out of view (content-visibility in the style sheet).
function appendRows(evs) {
  const fragment = document.createDocumentFragment();
  let chunk = table.lastElementChild.tagName === "TBODY" ? table.lastElementChild : null;
  for (const ev of evs) {
    if (!chunk || chunk.childElementCount >= CHUNK_ROWS) {
      chunk = document.createElement("tbody");
      fragment.append(chunk);
    }
    chunk.append(rowFor(ev));
  }
  table.append(fragment);
  state.rowCount += evs.length;
}

// Drop the oldest rows beyond MAX_ROWS: the whole chunks in one operation,
// then the oldest rows of the next chunk in another.
function trimRows() {
  let excess = state.rowCount - MAX_ROWS;
  if (excess <= 0) return;
  state.rowCount = MAX_ROWS;
  const first = table.tBodies[0];
  let last = null;
  for (let chunk = first; chunk && chunk.childElementCount <= excess; chunk = chunk.nextElementSibling) {
    excess -= chunk.childElementCount;
    last = chunk;
  }
  const range = document.createRange();
  if (last) {
    const next = last.nextElementSibling;
    range.setStartBefore(first);
    range.setEndAfter(last);
    range.deleteContents();
    if (!excess) return;
    range.selectNodeContents(next);
  } else {
    range.selectNodeContents(first);
  }
  range.setEndAfter(range.startContainer.children[excess - 1]);
  range.deleteContents();
}

function schedule() {
  if (!state.frame) state.frame = requestAnimationFrame(render);
}

// Once a frame: the events received since the last, as rows.
function render() {
  state.frame = 0;
  let evs = state.pending;
  state.pending = [];
  if (evs.length > MAX_ROWS) evs = evs.slice(evs.length - MAX_ROWS);
  if (evs.length) {
    appendRows(evs);
    trimRows();
    if (state.follow) scroller.scrollTop = scroller.scrollHeight;
    else $("jump").hidden = false;
  }
  updateCount();
}

function updateCount() {
  let text = `${state.rowCount} shown`;
  if (state.paused) {
    const waiting = Math.min(state.held.length, MAX_ROWS);
    const dropped = state.heldDropped + state.held.length - waiting;
    text += ` (${waiting} waiting${dropped ? `, ${dropped} dropped` : ""})`;
  }
  if (text !== state.countText) $("count").textContent = state.countText = text;
}

// Keep a list that grows to twice the bound before it is cut back to the
// newest MAX_ROWS: one copy per MAX_ROWS events, not one per event.
function pushBounded(list, ev) {
  list.push(ev);
  if (list.length <= 2 * MAX_ROWS) return { list, dropped: 0 };
  return { list: list.slice(list.length - MAX_ROWS), dropped: list.length - MAX_ROWS };
}

// ssed's envelope names the channel of every event. The column shows on a
// page that follows several channels, or once events name two channels.
function noteChannel(channel) {
  if (state.firstChannel === null) state.firstChannel = channel;
  if (!state.multiChannel && channel === state.firstChannel) return;
  state.withChannel = true;
  table.classList.add("with-channel");
}

function receive(msg) {
  const id = ownId(msg.lastEventId);
  if (isReplay(id)) return;
  if (id) remember(id);
  let type = "message", data = msg.data, channel = "";
  if (data.startsWith("{")) {
    try {
      const env = JSON.parse(data);
      if (env && typeof env.type === "string" && typeof env.data === "string") {
        type = env.type;
        data = env.data;
        if (typeof env.channel === "string") channel = env.channel;
      }
    } catch (e) { /* not an envelope: show as sent */ }
  }
  state.received++;
  addType(type);
  if (channel && !state.withChannel) noteChannel(channel);
  const notice = type === "ssed-gap";
  if (notice) data = gapText(data, channel);
  const published = publishTime(id);
  const ev = { time: published || Date.now(), published: !!published, channel, type, id, data, notice, search: "" };
  if (state.paused) {
    const kept = pushBounded(state.held, ev);
    state.held = kept.list;
    state.heldDropped += kept.dropped;
  } else {
    state.pending = pushBounded(state.pending, ev).list;
  }
  schedule();
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
    if (es.readyState === EventSource.CLOSED) {
      setStatus("closed", "closed");
      return;
    }
    setStatus("reconnecting", `reconnecting (${state.reconnects + 1})`);
    if (!state.replay && state.lastOwnId) state.replay = { last: state.lastOwnId, skipping: false };
  };
}

function setPaused(paused) {
  state.paused = paused;
  $("pause").textContent = paused ? "Resume" : "Pause";
  $("pause").classList.toggle("on", paused);
  if (paused) {
    // What has arrived but is not on screen yet waits too.
    state.held = state.pending;
    state.pending = [];
    return updateCount();
  }
  let held = state.held;
  let dropped = state.heldDropped + Math.max(0, held.length - MAX_ROWS);
  held = held.slice(Math.max(0, held.length - MAX_ROWS));
  state.held = [];
  state.heldDropped = 0;
  if (dropped) {
    dropped += 1; // the notice takes the place of the oldest
    held = held.slice(1);
    held.unshift({ time: Date.now(), channel: "", type: "paused", id: "", notice: true, search: "",
      data: `${dropped} events received while paused were dropped; the newest ${held.length} follow` });
  }
  state.pending = held;
  updateCount();
  schedule();
}

function refilter() {
  state.filterText = $("filter").value.toLowerCase();
  state.filterType = $("type-filter").value;
  for (const chunk of table.tBodies) {
    for (const tr of chunk.children) {
      const hidden = !matches(tr.ssedEvent);
      if (tr.hidden !== hidden) tr.hidden = hidden;
    }
  }
}

function sampleRate() {
  const now = performance.now(), samples = state.rateSamples;
  samples.push({ now, received: state.received });
  while (samples.length > 1 && samples[0].now < now - 2000) samples.shift();
  const first = samples[0], span = now - first.now;
  const rate = span > 0 ? Math.round((state.received - first.received) * 1000 / span) : 0;
  $("rate").textContent = `${rate} events/s`;
}

// The time column's widths, measured once: a time must not wrap, and how
// wide it is depends on the locale and the font. The widest of a few
// samples (AM and PM, every month), plus the cell's padding.
function sizeTimeColumn() {
  const samples = [], probes = [];
  for (let month = 0; month < 12; month++) {
    const t = new Date(2026, month, 28, month % 2 ? 22 : 10, 58, 58);
    samples.push([clock.format(t), `${day.format(t)}, ${clock.format(t)}`]);
  }
  for (const [time, dated] of samples) {
    for (const text of [time, dated]) {
      const probe = document.createElement("span");
      probe.className = "time-probe";
      probe.textContent = text;
      probes.push(probe);
    }
  }
  document.body.append(...probes);
  let time = 0, dated = 0;
  probes.forEach((probe, i) => {
    const width = probe.getBoundingClientRect().width;
    if (i % 2) dated = Math.max(dated, width);
    else time = Math.max(time, width);
    probe.remove();
  });
  if (time) table.style.setProperty("--time-only", `${Math.ceil(time) + 20}px`);
  if (dated) table.style.setProperty("--time-dated", `${Math.ceil(dated) + 20}px`);
}

function setup() {
  sizeTimeColumn();
  const channel = decodeURIComponent(location.pathname) + (location.search ? location.search : "");
  $("channel").textContent = channel;
  document.title = "ssed " + channel;
  table.addEventListener("click", expand, true);
  table.addEventListener("click", toggleLong);
  $("filter").addEventListener("input", refilter);
  $("type-filter").addEventListener("change", refilter);
  $("pause").addEventListener("click", () => setPaused(!state.paused));
  $("clear").addEventListener("click", () => {
    for (const chunk of [...table.tBodies]) chunk.remove();
    state.rowCount = 0;
    state.pending = [];
    updateCount();
  });
  scroller.addEventListener("scroll", () => {
    state.follow = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 8;
    if (state.follow) $("jump").hidden = true;
  });
  $("jump").addEventListener("click", () => { scroller.scrollTop = scroller.scrollHeight; });
  setInterval(sampleRate, 500);
  updateCount();
  connect();
}

setup();
