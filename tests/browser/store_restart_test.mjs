// Subscribers through a restart of ssed with --store: an EventSource in
// headless Chromium and the npm eventsource client follow /news while 50
// events are published, ssed is killed (SIGKILL) and started again on the
// same store and port, and 50 more are published. Each must get all 100,
// once, in order, and no ssed-gap: the ids they resume from are in the
// restored history.
// Usage: node store_restart_test.mjs SSED PORT STORE_PATH
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { check, launchChromium, run, startSsed, stopProcess, waitFor } from "./harness.mjs";

const [ssedPath, port, storePath] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const args = ["-l", `127.0.0.1:${port}`, "--no-stdin", "--store", storePath, "--retry", "200ms", "--no-ui"];
const esClient = fileURLToPath(new URL("../lib/es_client.mjs", import.meta.url));
let ssed, browser, es;

async function publish(from, to) {
  for (let i = from; i <= to; i++) {
    const res = await fetch(`${base}/news`, { method: "POST", body: String(i) });
    if (res.status !== 200) throw new Error(`publish ${i}: ${res.status}`);
  }
}

const expected = Array.from({ length: 100 }, (_, i) => String(i + 1));

async function main() {
  ssed = await startSsed(ssedPath, args);
  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${base}/_ssed/health`);
  await page.evaluate((url) => {
    window.got = [];
    window.gaps = 0;
    const source = new EventSource(url);
    source.onmessage = (ev) => window.got.push(ev.data);
    source.addEventListener("ssed-gap", () => window.gaps++);
  }, `${base}/news`);

  const lines = [];
  es = spawn("node", [esClient, `${base}/news`, "101", "ssed-gap"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ES_CLIENT_TIMEOUT_MS: "60000" },
  });
  let buffered = "";
  es.stdout.on("data", (d) => {
    buffered += d;
    const parts = buffered.split("\n");
    buffered = parts.pop();
    for (const p of parts) if (p) lines.push(JSON.parse(p));
  });
  // Both connected: ssed counts two subscribers on /news.
  await waitFor(async () => {
    const stats = await (await fetch(`${base}/_ssed/stats`)).json();
    const news = stats.channels.find((c) => c.name === "/news");
    return news && news.subscribers >= 2;
  }, 15000, "two subscribers on /news");

  await publish(1, 50);
  await waitFor(async () => (await page.evaluate(() => window.got.length)) >= 50 && lines.length >= 50, 15000,
    "the first 50 events in both clients");
  ssed.kill("SIGKILL");
  await new Promise((r) => ssed.once("exit", r));
  ssed = await startSsed(ssedPath, args);
  // Both reconnect (with Last-Event-ID) before the next events.
  await waitFor(async () => {
    const stats = await (await fetch(`${base}/_ssed/stats`)).json();
    const news = stats.channels.find((c) => c.name === "/news");
    return news && news.subscribers >= 2;
  }, 20000, "both clients reconnected");
  await publish(51, 100);
  await waitFor(async () => (await page.evaluate(() => window.got.length)) >= 100 && lines.length >= 100, 20000,
    "all 100 events in both clients");

  const got = await page.evaluate(() => window.got);
  const gaps = await page.evaluate(() => window.gaps);
  check(JSON.stringify(got) === JSON.stringify(expected), `Chromium: 100 events once, in order (got ${got.length})`);
  check(gaps === 0, `Chromium: no ssed-gap (${gaps})`);
  const esData = lines.filter((l) => l.type === "message").map((l) => l.data);
  check(JSON.stringify(esData) === JSON.stringify(expected), `eventsource: 100 events once, in order (got ${esData.length})`);
  check(!lines.some((l) => l.type === "ssed-gap"), "eventsource: no ssed-gap");
}

await run(main, async () => {
  if (es && es.exitCode === null) es.kill("SIGTERM");
  if (browser) await browser.close();
  await stopProcess(ssed);
});
