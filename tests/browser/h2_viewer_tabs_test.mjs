// Chromium, HTTP/2 and the viewer: four tabs of one browser context open
// ssed's viewer page over https. All four come over h2, all four go live,
// and each shows every event published once all four are connected.
// Then the reason it matters, on ssed's plain http listener (HTTP/1.1, six
// connections per origin): a seventh tab waits while six viewers hold every
// connection, and goes live as soon as one of them is closed.
// Usage: node h2_viewer_tabs_test.mjs SSED_BINARY HTTPS_PORT HTTP_PORT CERT KEY
import { check, launchChromium, run, startSsed, stopProcess, waitFor } from "./harness.mjs";

const [ssedPath, httpsPort, httpPort, cert, key] = process.argv.slice(2);
const TABS = 4, EVENTS = 3, HTTP1_LIMIT = 6;
const httpsBase = `https://127.0.0.1:${httpsPort}`;
const httpBase = `http://127.0.0.1:${httpPort}`;
let ssed = null, browser = null;

const isLive = (page) => page.evaluate(() => document.getElementById("status-text").textContent === "live");
const shownData = (page) => page.$$eval("tbody td.data", (tds) => tds.map((td) => td.textContent).join(","));
const protocolOf = (page) => page.evaluate(() => performance.getEntriesByType("navigation")[0].nextHopProtocol);

async function subscribers() {
  const res = await fetch(`${httpBase}/_ssed/stats`);
  return (await res.json()).subscribers;
}

// TABS viewer tabs over https: each live over h2, each shows every event.
async function viewerTabsOverH2(context) {
  const pages = [];
  for (let i = 0; i < TABS; i++) {
    const page = await context.newPage();
    await page.goto(`${httpsBase}/`);
    pages.push(page);
  }
  const protocols = await Promise.all(pages.map(protocolOf));
  check(protocols.every((p) => p === "h2"), `every tab's page came over HTTP/2 (${protocols})`);
  await waitFor(async () => (await Promise.all(pages.map(isLive))).every(Boolean), 20000, "all tabs live");
  await waitFor(async () => (await subscribers()) === TABS, 10000, `ssed counts ${TABS} subscribers`);
  check(true, `all ${TABS} viewer tabs are live and ssed counts ${TABS} subscribers`);
  for (let k = 1; k <= EVENTS; k++) ssed.stdin.write(`tab event ${k}\n`);
  const want = Array.from({ length: EVENTS }, (_, k) => `tab event ${k + 1}`).join(",");
  await waitFor(async () => (await Promise.all(pages.map(shownData))).every((d) => d === want), 20000,
    "every tab shows every event").catch(() => {});
  const shown = await Promise.all(pages.map(shownData));
  check(shown.every((d) => d === want), `every tab shows the ${EVENTS} events in order (${JSON.stringify(shown)})`);
  await Promise.all(pages.map((p) => p.close()));
  await waitFor(async () => (await subscribers()) === 0, 10000, "the closed tabs' streams end");
}

// Over HTTP/1.1 the seventh viewer cannot even load its page until a
// connection is free. The one fixed wait is how long "stalled" is watched.
async function seventhTabWaitsOverHttp1(context) {
  const pages = [];
  for (let i = 0; i < HTTP1_LIMIT; i++) {
    const page = await context.newPage();
    await page.goto(`${httpBase}/`);
    await waitFor(() => isLive(page), 20000, `HTTP/1.1 tab ${i + 1} live`);
    pages.push(page);
  }
  check((await protocolOf(pages[0])) === "http/1.1", "the plain listener's tabs came over HTTP/1.1");
  const seventh = await context.newPage();
  let loaded = false;
  const navigation = seventh.goto(`${httpBase}/`, { timeout: 30000 }).then(() => { loaded = true; }, (e) => e);
  await new Promise((r) => setTimeout(r, 1500));
  const stalled = !loaded && (await subscribers()) === HTTP1_LIMIT;
  check(stalled, `the 7th HTTP/1.1 tab waits while ${HTTP1_LIMIT} viewers hold the origin's connections`);
  await pages[0].close();
  await navigation;
  await waitFor(() => isLive(seventh), 20000, "the 7th tab live").catch(() => {});
  check(await isLive(seventh), "and goes live once one of them is closed");
}

run(async () => {
  ssed = await startSsed(ssedPath, ["-l", `https://127.0.0.1:${httpsPort}`, "-l", `http://127.0.0.1:${httpPort}`,
    "--tls-cert", cert, "--tls-key", key]);
  browser = await launchChromium(["--ignore-certificate-errors"]);
  const context = await browser.newContext();
  await viewerTabsOverH2(context);
  await seventhTabWaitsOverHttp1(context);
}, async () => {
  if (browser) await browser.close().catch(() => {});
  await stopProcess(ssed);
});
