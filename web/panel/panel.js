// The vgpio panel: every line of the daemon, live from /events (server-sent
// events fed by the control socket's watch stream), a waveform of the last
// 10 s per line drawn from the daemon's own timestamps, and buttons for
// simulated inputs. Only the rows on screen exist in the page, so 1,000
// lines and 1,000 edges a second stay smooth.
"use strict";

const ROW = 32;            // px per line
const WINDOW_NS = 10e9;    // the waveform's span
const list = document.getElementById("list");
const spacer = document.getElementById("spacer");
const status = document.getElementById("status");
const filter = document.getElementById("filter");

const lines = [];          // every line: {device, line, name, kind, direction, value, irq, holder, driver, trace}
const byKey = new Map();   // "device/line" -> line
let shown = [];            // the lines that pass the filter, in order
const rows = new Map();    // index in `shown` -> row element on screen
// The daemon's clock: its time at our performance.now() origin.
let daemonOffsetNs = null;

// For tests and for the curious: the model, and what was last drawn.
window.vgpioPanel = { lines, drawnEdges: {}, snapshots: 0, changes: 0 };

function nowNs() {
  return daemonOffsetNs === null ? 0 : daemonOffsetNs + performance.now() * 1e6;
}

function learnClock(ns) {
  // The newest event is as close to "now" as we can know; never go back.
  const offset = ns - performance.now() * 1e6;
  if (daemonOffsetNs === null || offset > daemonOffsetNs) daemonOffsetNs = offset;
}

function trim(trace, now) {
  // Keep the last point before the window: it is the level at its left edge.
  let first = 0;
  while (first + 1 < trace.length && trace[first + 1][0] < now - WINDOW_NS) first++;
  if (first > 0) trace.splice(0, first);
}

function onSnapshot(snapshot) {
  lines.length = 0;
  byKey.clear();
  learnClock(snapshot.ns);
  for (const d of snapshot.devices) {
    for (const l of d.lines) {
      const line = Object.assign({ device: d.name, trace: [] }, l);
      if (typeof l.value === "number") line.trace.push([snapshot.ns, l.value]);
      lines.push(line);
      byKey.set(d.name + "/" + l.line, line);
    }
  }
  window.vgpioPanel.snapshots++;
  // A device whose thread did not answer in time comes without its lines.
  const silent = snapshot.devices.filter((d) => d.answering === false).map((d) => d.name);
  status.textContent = `${snapshot.devices.length} device(s), ${lines.length} line(s), live` +
    (silent.length ? `; not answering: ${silent.join(", ")}` : "");
  applyFilter();
}

function onChange(ev) {
  const line = byKey.get(ev.device + "/" + ev.line);
  if (!line) return;
  learnClock(ev.ns);
  window.vgpioPanel.changes++;
  line[ev.field] = ev.value;
  if (ev.field === "value") {
    line.changedNs = ev.ns;
    line.trace.push([ev.ns, ev.value]);
    trim(line.trace, ev.ns);
  }
  line.dirty = true;
}

function applyFilter() {
  const words = filter.value.trim().toLowerCase();
  shown = words ? lines.filter((l) => (l.device + " " + l.name).toLowerCase().includes(words)) : lines.slice();
  spacer.style.height = shown.length * ROW + "px";
  for (const row of rows.values()) row.remove();
  rows.clear();
  render();
}

function post(path, body) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },  // the session is in an HttpOnly cookie
    body: JSON.stringify(body),
  });
}

function makeRow(line) {
  const row = document.createElement("div");
  row.className = "row";
  const cells = ["name", "kind", "direction", "value", "irq", "who"].map((c) => {
    const span = document.createElement("span");
    span.className = c;
    row.appendChild(span);
    return span;
  });
  row.cells = cells;
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 24;
  row.appendChild(canvas);
  row.canvas = canvas;
  const buttons = document.createElement("span");
  if (line.kind === "simulated") {
    for (const action of ["toggle", "pulse", "bounce"]) {
      const b = document.createElement("button");
      b.textContent = action;
      b.dataset.action = action;
      b.addEventListener("click", () => post("/api/drive", { device: line.device, line: line.line, action }));
      buttons.appendChild(b);
    }
  }
  row.appendChild(buttons);
  row.buttons = buttons;
  return row;
}

function fill(row, line) {
  const [name, kind, dir, value, irq, who] = row.cells;
  name.innerHTML = "";
  const device = document.createElement("span");
  device.className = "device";
  device.textContent = line.device + " ";
  name.append(device, String(line.line) + " " + (line.name || ""));
  kind.textContent = line.kind === "simulated" ? "simulated" : "host";
  kind.className = "kind " + (line.kind === "simulated" ? "" : "host");
  kind.title = line.kind;
  dir.textContent = line.direction || "";
  value.textContent = line.value === null || line.value === undefined ? "?" : String(line.value);
  value.className = "value value-" + line.value;
  if (line.changedNs !== line.shownNs) {
    // When the page first showed this change (the host's clock, as the daemon's ns).
    line.shownNs = line.changedNs;
    line.shownMs = Date.now();
  }
  irq.textContent = (line.irq || "none") + (line.unmasked ? "" : line.irq && line.irq !== "none" ? " (masked)" : "");
  const wired = (line.wired_to || []).length ? "wired to " + line.wired_to.join(", ") : "";
  who.textContent = [line.holder && line.holder !== "-" ? line.holder : "", line.driver || "", wired]
    .filter(Boolean).join("; ");
  for (const b of row.buttons.querySelectorAll("button")) b.disabled = line.direction === "out";
}

function draw(row, line, now) {
  const c = row.canvas;
  const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  const x = (ns) => Math.max(0, ((ns - (now - WINDOW_NS)) / WINDOW_NS) * c.width);
  const y = (v) => (v === 1 ? 4 : 20);
  const t = line.trace;
  let edges = 0;
  g.strokeStyle = "#0a7d2c";
  g.lineWidth = 2;
  g.beginPath();
  for (let i = 0; i < t.length; i++) {
    const [ns, v] = t[i];
    if (i === 0) g.moveTo(x(ns), y(v));
    else {
      g.lineTo(x(ns), y(t[i - 1][1]));
      g.lineTo(x(ns), y(v));
      if (x(ns) > 0) edges++;
    }
  }
  if (t.length) g.lineTo(c.width, y(t[t.length - 1][1]));
  g.stroke();
  window.vgpioPanel.drawnEdges[line.device + "/" + line.line] = edges;
}

function render() {
  const first = Math.max(0, Math.floor(list.scrollTop / ROW) - 5);
  const last = Math.min(shown.length, Math.ceil((list.scrollTop + list.clientHeight) / ROW) + 5);
  for (const [i, row] of rows) {
    if (i < first || i >= last) {
      row.remove();
      rows.delete(i);
    }
  }
  const now = nowNs();
  for (let i = first; i < last; i++) {
    const line = shown[i];
    let row = rows.get(i);
    if (!row || row.line !== line) {
      if (row) row.remove();
      row = makeRow(line);
      row.line = line;
      row.style.top = i * ROW + "px";
      list.appendChild(row);
      rows.set(i, row);
      line.dirty = true;
    }
    if (line.dirty) {
      fill(row, line);
      line.dirty = false;
    }
    draw(row, line, now);
  }
}

function frame() {
  render();
  requestAnimationFrame(frame);
}

function connect() {
  const events = new EventSource("/events");
  events.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
  events.addEventListener("change", (e) => onChange(JSON.parse(e.data)));
  events.onerror = () => {
    status.textContent = "daemon unreachable; retrying";
  };
}

document.getElementById("record").addEventListener("click", async () => {
  status.textContent = "recording 5 s...";
  const answer = await post("/api/record", { seconds: 5 });
  if (!answer.ok) {
    status.textContent = "record: " + (await answer.json()).error;
    return;
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(await answer.blob());
  a.download = "vgpio.vcd";
  a.click();
  status.textContent = `${lines.length} line(s), live; recording saved`;
});
filter.addEventListener("input", applyFilter);
list.addEventListener("scroll", render);
connect();
requestAnimationFrame(frame);
