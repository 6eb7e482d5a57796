// Chromium and HTTP/2: one page opens 20 EventSources to one https ssed
// origin. Over HTTP/1.1 the seventh would wait forever (six connections per
// origin); over HTTP/2 they share one connection and all 20 get every
// event. Also checks the page itself came over h2.
// Usage: node h2_many_streams_test.mjs SSED_BINARY PORT CERT KEY
import { check, launchChromium, run, startSsed, stopProcess } from "./harness.mjs";

const [ssedPath, port, cert, key] = process.argv.slice(2);
const STREAMS = 20, EVENTS = 5;
let ssed = null, browser = null;

run(async () => {
  ssed = await startSsed(ssedPath, ["-l", `https://127.0.0.1:${port}`, "--tls-cert", cert, "--tls-key", key]);
  browser = await launchChromium(["--ignore-certificate-errors"]);
  const page = await browser.newPage();
  const origin = `https://127.0.0.1:${port}`;
  await page.goto(`${origin}/_ssed/health`);
  const protocol = await page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);
  check(protocol === "h2", `the page came over HTTP/2 (nextHopProtocol ${protocol})`);
  await page.evaluate((n) => {
    window.received = Array.from({ length: n }, () => []);
    window.opened = 0;
    for (let i = 0; i < n; i++) {
      const es = new EventSource(`/?stream=${i}`);
      es.onopen = () => { window.opened++; };
      es.onmessage = (e) => window.received[i].push(e.data);
    }
  }, STREAMS);
  await page.waitForFunction((n) => window.opened === n, STREAMS, { polling: 50, timeout: 30000 })
    .catch(() => {});
  const opened = await page.evaluate(() => window.opened);
  check(opened === STREAMS, `${opened} of ${STREAMS} EventSources opened`);
  for (let k = 1; k <= EVENTS; k++) ssed.stdin.write(`event ${k}\n`);
  await page.waitForFunction((want) => window.received.every((r) => r.length >= want), EVENTS,
    { polling: 50, timeout: 30000 }).catch(() => {});
  const counts = await page.evaluate(() => window.received.map((r) => r.join(",")));
  const want = Array.from({ length: EVENTS }, (_, k) => `event ${k + 1}`).join(",");
  const complete = counts.filter((c) => c === want).length;
  check(complete === STREAMS, `${complete} of ${STREAMS} EventSources received all ${EVENTS} events in order`);
}, async () => {
  if (browser) await browser.close().catch(() => {});
  await stopProcess(ssed);
});
