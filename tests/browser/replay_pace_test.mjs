// Chromium's own EventSource on a replay (issue 31): ssed --replay serves a
// recording of three events 0.6 s apart on the page's own timeline
// (?replay=start); the page sees them in order, with their ids, none early.
// Usage: node replay_pace_test.mjs SSED_BINARY PORT RECORDING
import { check, launchChromium, run, startSsed, stopProcess } from "./harness.mjs";

const [ssedPath, port, recording] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
let ssed = null;
let browser = null;

async function main() {
  ssed = await startSsed(ssedPath, ["-l", `127.0.0.1:${port}`, "--no-stdin", "--replay", recording]);
  browser = await launchChromium();
  const page = await browser.newPage();
  // A page of ssed's own origin, so EventSource needs no CORS.
  await page.goto(`${base}/_ssed/health`);
  const scale = Number(process.env.SSETOOLS_WAIT_SCALE || 1);
  const seen = await page.evaluate((limitMs) => new Promise((resolve) => {
    const rows = [];
    const es = new EventSource("/?replay=start");
    const start = performance.now();
    const done = () => { es.close(); resolve(rows); };
    setTimeout(done, limitMs);
    es.onmessage = (ev) => {
      rows.push({ data: ev.data, id: ev.lastEventId, ms: Math.round(performance.now() - start) });
      if (rows.length === 3) done();
    };
  }), 20000 * scale);
  check(JSON.stringify(seen.map((r) => [r.data, r.id])) ===
    JSON.stringify([["at once", "a"], ["0.6 s in", "b"], ["1.2 s in", "c"]]),
    `Chromium's EventSource gets the replayed events in order with their ids (${JSON.stringify(seen)})`);
  if (seen.length === 3) {
    const gaps = [seen[1].ms - seen[0].ms, seen[2].ms - seen[0].ms];
    check(gaps[0] >= 550 && gaps[1] >= 1150, `none early: ${gaps[0]} ms and ${gaps[1]} ms after the first (recorded 600 and 1200)`);
  }
}

await run(main, async () => {
  if (browser) await browser.close();
  await stopProcess(ssed);
});
