// The panel in a real browser: Debian's chromium, headless, driven by
// puppeteer-core, against a real daemon with 1,000 simulated lines.
// usage: node panel_test.mjs   (environment: VGPIO_BIN, VGPIO_PANEL_BIN,
//                               VGPIO_CHROMIUM, VGPIO_ARTIFACTS)
// Waits are for events, with generous limits; only the 300 ms budget for a
// change to reach the page is a figure, checked on the median of ten.
import { execFile, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const puppeteer = (await import("puppeteer-core").catch(() => {
  console.log("FAIL: puppeteer-core is missing: scripts/setup.sh test installs it (npm ci in tests/browser)");
  process.exit(1);
})).default;

const run = promisify(execFile);
const vgpio = process.env.VGPIO_BIN;
const panelBin = process.env.VGPIO_PANEL_BIN;
const artifacts = process.env.VGPIO_ARTIFACTS || tmpdir();
const WAIT = 120000;
const dir = mkdtempSync(path.join(tmpdir(), "vgpio-panel-"));
const control = path.join(dir, "vgpio.sock.ctl");
const children = [];
let failures = 0;

function check(ok, what) {
  console.log(`${ok ? "ok" : "FAIL"}: ${what}`);
  if (!ok) failures++;
}

function start(cmd, args, ready) {
  const child = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(ready);
      if (m) resolve(m);
    });
    child.on("exit", (code) => reject(new Error(`${cmd} exited (${code}): ${out}`)));
  });
}

const ctl = async (...args) => (await run(vgpio, ["ctl", "--control", control, ...args])).stdout.trim();

function request(url, { method = "GET", headers = {}, body, socketPath } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, socketPath }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, text, headers: res.headers }));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

async function main() {
  await start(vgpio, ["serve", "--sim", "1000", "--socket", path.join(dir, "vgpio.sock")], /vgpio is serving/);
  const [, ownerUrl] = await start(panelBin, ["--control", control, "--listen", "127.0.0.1:0"], /open (http:\S+)/);
  const url = ownerUrl.replace(/\?token=.*/, "");
  const body = JSON.stringify({ device: "vgpio0", line: 4, action: "toggle" });
  const post = (headers) => request(url + "api/drive", { method: "POST", headers, body });

  // Another local user reaches the port, but not the owner's terminal: the
  // page, its events and its API are closed to it, and the page itself never
  // holds the secret.
  const page403 = await request(url);
  check(page403.status === 403 && !page403.text.includes("token="), `GET / without the cookie: ${page403.status}`);
  check((await request(url + "events")).status === 403, "GET /events without the cookie is refused");
  check((await post({})).status === 403, "a POST without the cookie is refused");
  check((await request(url + "?token=0123456789abcdef0123456789abcdef")).status === 403, "a wrong login token is refused");
  check((await ctl("get", "vgpio0", "4")) === "0", "nothing drove sim4");
  const browser = await puppeteer.launch({
    executablePath: process.env.VGPIO_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu"],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 700 });
    page.setDefaultTimeout(WAIT);
    await page.goto(ownerUrl);  // the token becomes an HttpOnly cookie
    check(page.url() === url, `the address bar loses the token: ${page.url()}`);
    check(!(await page.content()).includes(ownerUrl.split("token=")[1]), "the page does not hold the login token");
    check(await page.evaluate(() => document.cookie === ""), "the session cookie is out of the page's scripts' reach");
    await page.waitForFunction(() => window.vgpioPanel.lines.length === 1000);
    const rendered = await page.$$eval(".row", (rows) => rows.length);
    check(rendered > 10 && rendered < 100, `1,000 lines listed, ${rendered} rows in the page (virtualized)`);
    check((await page.$eval("#list", (l) => l.textContent)).includes("sim0"), "the first line is on screen");

    // A click on toggle drives the simulated input: the daemon says so.
    const rowOf = (n) => page.evaluateHandle((n) =>
      [...document.querySelectorAll(".row")].find((r) => r.line && r.line.line === n), n);
    await (await rowOf(1)).asElement().$eval('button[data-action="toggle"]', (b) => b.click());
    for (let i = 0; i < 600 && (await ctl("get", "vgpio0", "1")) !== "1"; i++) await new Promise((r) => setTimeout(r, 50));
    check((await ctl("get", "vgpio0", "1")) === "1", "toggle on sim1 set it to 1 (vgpio ctl get)");

    // A change made elsewhere reaches the page: the median of ten within
    // 300 ms, from the daemon's time of the change to the page's showing it
    // (both the host's clock). Starting `vgpio ctl` is not the panel's cost,
    // and on a loaded machine it can be most of the wait.
    const latencies = [], roundTrips = [];
    for (let i = 0; i < 10; i++) {
      const want = i % 2 ? 0 : 1;
      const t0 = Date.now();
      await ctl("set", "vgpio0", "2", String(want));
      const shown = await page.waitForFunction((w) => {
        const row = [...document.querySelectorAll(".row")].find((r) => r.line && r.line.line === 2);
        if (!row || row.querySelector(".value").textContent !== String(w)) return null;
        return row.line.shownMs - row.line.changedNs / 1e6;
      }, {}, want);
      latencies.push(Math.round(await shown.jsonValue()));
      roundTrips.push(Date.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    const median = latencies[5];
    console.log(`info: ctl set to the page, with starting vgpio ctl: ${roundTrips.join(", ")} ms`);
    check(median >= 0 && median <= 300,
      `a change shows on the page ${median} ms after the daemon made it (median of 10; all: ${latencies.join(", ")})`);

    // The waveform: edges were drawn, green at both levels of sim2's canvas.
    await page.waitForFunction(() => (window.vgpioPanel.drawnEdges["vgpio0/2"] || 0) >= 5);
    const levels = await page.evaluate(() => {
      const row = [...document.querySelectorAll(".row")].find((r) => r.line && r.line.line === 2);
      const g = row.canvas.getContext("2d");
      const green = (y) => {
        const d = g.getImageData(0, y, row.canvas.width, 1).data;
        for (let i = 0; i < d.length; i += 4) if (d[i + 1] > 100 && d[i] < 100 && d[i + 3] > 0) return true;
        return false;
      };
      return { high: green(4), low: green(20) };
    });
    check(levels.high && levels.low, `sim2's canvas shows both levels: ${JSON.stringify(levels)}`);

    // 1,000 edges a second (a 2 ms clock): the page keeps up and keeps drawing.
    await ctl("clock", "vgpio0", "3", "--period", "2ms");
    const before = await page.evaluate(() => window.vgpioPanel.changes);
    await page.waitForFunction((b) => window.vgpioPanel.changes - b >= 1000, {}, before);
    const frames = await page.evaluate(() => new Promise((resolve) => {
      let n = 0;
      const end = performance.now() + 1000;
      const tick = () => (performance.now() < end ? (n++, requestAnimationFrame(tick)) : resolve(n));
      requestAnimationFrame(tick);
    }));
    check(frames >= 1, `drawing goes on under a 1 kHz clock: ${frames} frames in 1 s`);
    await ctl("stop", "vgpio0", "3");

    // The record button's request: a VCD of every line.
    const vcd = await page.evaluate(async () => {
      const r = await fetch("/api/record", { method: "POST", body: JSON.stringify({ seconds: 1 }) });
      return { status: r.status, text: await r.text() };
    });
    check(vcd.status === 200 && vcd.text.includes("$timescale") && vcd.text.includes("sim999"),
          `record gives a VCD of every line (${vcd.text.length} bytes)`);

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, "panel.png") });
    console.log(`screenshot: ${path.join(artifacts, "panel.png")}`);

    // Other websites: a foreign Origin, a foreign Host, even with the cookie;
    // and the login token is good once.
    const cookie = (await page.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    check((await post({ Cookie: cookie, Origin: "http://evil.example" })).status === 403,
          "a POST from a foreign Origin is refused");
    check((await request(url, { headers: { Host: "evil.example:8080", Cookie: cookie } })).status === 403,
          "a foreign Host (DNS rebinding) is refused");
    check((await request(ownerUrl)).status === 403, "the owner's URL is good once");
    check((await post({ Cookie: cookie })).status === 200, "the page's own POST is accepted");
    check((await ctl("get", "vgpio0", "4")) === "1", "and it drove sim4");
  } finally {
    await browser.close();
  }

  // unix:PATH: the socket's mode decides, and it is the owner's alone.
  const sock = path.join(dir, "panel.sock");
  chmodSync(dir, 0o711);  // others may pass through the directory: the socket's own mode must stop them
  const [, unixUrl] = await start(panelBin, ["--control", control, "--listen", `unix:${sock}`], /open unix:\S+ (\/\S+)/);
  const viaUnix = await request(`http://localhost${unixUrl}`, { socketPath: sock });
  check(viaUnix.status === 303 && /HttpOnly/.test(viaUnix.headers["set-cookie"]),
        `the owner's URL over unix:${sock} gives the cookie (${viaUnix.status})`);
  const other = await run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
    `import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n  s.connect(${JSON.stringify(sock)}); print("connected")\n` +
    `except OSError as e:\n  print(e.strerror)`]).catch((e) => ({ stdout: `error: ${e}` }));
  check(other.stdout.trim() === "Permission denied", `another uid cannot connect to the unix: panel: ${other.stdout.trim()}`);
}

try {
  await main();
} catch (e) {
  console.log(`FAIL: ${e.stack || e}`);
  failures++;
} finally {
  for (const c of children) c.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
console.log(failures ? `${failures} failed` : "all passed");
process.exit(failures ? 1 : 0);
