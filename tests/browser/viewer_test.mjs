// The viewer page in Debian's Chromium, driven by playwright-core: it loads
// from ssed's URL, shows events in order, filters, pauses and resumes,
// shows the reconnecting state when ssed goes away and recovers without
// duplicate rows, and renders markup in data as text; shows every event of
// a publisher that reuses an id; shows each event's channel on a page that
// follows several channels. Saves screenshots.
// Usage: node viewer_test.mjs SSED_BINARY PORT ARTIFACT_DIR
import { check, launchChromium, run, startSsed as launchSsed, stopProcess } from "./harness.mjs";

const [ssedPath, port, artifacts] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
let ssed = null;
let browser = null;

const startSsed = () =>
  launchSsed(ssedPath, ["-l", `127.0.0.1:${port}`, "--format", "sse", "--retry", "300ms", "--history", "100"]);

async function stopSsed() {
  const child = ssed;
  ssed = null;
  await stopProcess(child);
}

const send = (text) => ssed.stdin.write(text);
const event = (id, data, type) => `${type ? `event: ${type}\n` : ""}id: ${id}\ndata: ${data}\n\n`;

async function rowIds(page) {
  return page.$$eval("tbody tr", (trs) => trs.map((tr) => tr.querySelector("td.id").textContent));
}

async function main() {
  ssed = await startSsed();
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  page.setDefaultTimeout(10000);
  const response = await page.goto(`${base}/`);
  check(response.headers()["content-type"].startsWith("text/html"), "the channel URL gives a browser the viewer page");
  check((response.headers()["content-security-policy"] || "").includes("default-src 'none'"), "with a strict CSP");
  await page.waitForFunction(() => document.getElementById("status-text").textContent === "live");
  check(true, "the page connects and shows live");

  send(event("a1", '{"service":"api","v":1,"tags":["x","y"]}', "deploy"));
  send(event("a2", "plain text line"));
  send(event("a3", "build 42 done", "build"));
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 3);
  check(JSON.stringify(await rowIds(page)) === '["a1","a2","a3"]', "events are shown in order");
  const types = await page.$$eval("tbody td.type", (tds) => tds.map((td) => td.textContent));
  check(JSON.stringify(types) === '["deploy","message","build"]', "named and message types are shown");

  await page.click("tbody tr:first-child summary");
  const pretty = await page.$eval("tbody tr:first-child details", (d) => d.open && d.querySelector("div").textContent);
  check(typeof pretty === "string" && pretty.includes('\n  "service": "api"'), "JSON data expands pretty-printed");

  const attack = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
  send(event("a4", attack));
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 4);
  const shown = await page.$eval("tbody:last-of-type tr:last-child td.data", (td) => td.textContent);
  check(shown === attack, "markup in data is shown as text");
  check(await page.evaluate(() => window.__xss === undefined && !document.querySelector("tbody img")),
    "and never run");

  await page.fill("#filter", "plain");
  check(await page.$$eval("tbody tr:not([hidden])", (t) => t.length) === 1, "the text filter narrows the rows");
  await page.fill("#filter", "");
  await page.selectOption("#type-filter", "build");
  check(await page.$$eval("tbody tr:not([hidden])", (t) => t.length) === 1, "the type filter narrows the rows");
  await page.selectOption("#type-filter", "");

  await page.click("#pause");
  send(event("a5", "sent while paused 1"));
  send(event("a6", "sent while paused 2"));
  await page.waitForFunction(() => document.getElementById("count").textContent.includes("2 waiting"));
  check((await rowIds(page)).length === 4, "paused: new events wait");
  await page.click("#pause");
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 6);
  check(JSON.stringify((await rowIds(page)).slice(4)) === '["a5","a6"]', "resumed: they are shown, in order");

  // A publisher may reuse an id: only a reconnect's replay is held back.
  send(event("deploy", "deploy one") + event("b1", "between") + event("deploy", "deploy two"));
  await page.waitForFunction(() => [...document.querySelectorAll("tbody td.data")].some((td) => td.textContent === "between"));
  await new Promise((r) => setTimeout(r, 300));
  const deploys = await page.$$eval("tbody td.data", (tds) => tds.filter((td) => td.textContent.startsWith("deploy ")).length);
  check(deploys === 2, `events reusing an id are all shown (${deploys} of 2)`);
  check(await page.evaluate(() => { const th = document.querySelector("th.channel"); return !th || getComputedStyle(th).display === "none"; }),
    "a page of one channel has no channel column");

  await page.screenshot({ path: `${artifacts}/viewer.png` });

  // ssed goes away: the page says so, then reconnects with Last-Event-ID a6.
  // The new ssed does not know a6, so it sends a gap notice and all it has,
  // a4 and a5 among them: the page must not show those twice.
  await stopSsed();
  await page.waitForFunction(() => document.getElementById("status-text").textContent.startsWith("reconnecting"));
  check(true, "the page shows the reconnecting state");
  ssed = await startSsed();
  send(event("a4", attack) + event("a5", "sent while paused 1") + event("a7", "after the restart"));
  await page.waitForFunction(() => document.getElementById("status-text").textContent.includes("reconnected 1"));
  await page.waitForFunction(() => [...document.querySelectorAll("tbody td.id")].some((td) => td.textContent === "a7"));
  await new Promise((r) => setTimeout(r, 300));
  const ids = (await rowIds(page)).filter((id) => id.startsWith("a"));
  check(JSON.stringify(ids) === '["a1","a2","a3","a4","a5","a6","a7"]', `no duplicate rows after the reconnect (${ids})`);
  send(event("a4", "a4 again, after a new id"));
  const again = await page.waitForFunction(() => [...document.querySelectorAll("tbody td.data")]
    .some((td) => td.textContent === "a4 again, after a new id")).then(() => true, () => false);
  check(again, "once a new id has come, an id seen before is shown again");
  check(await page.$$eval("tr.notice td.type", (t) => t.some((td) => td.textContent === "ssed-gap")),
    "the gap notice is shown");

  // A page following several channels: ssed's envelope names each event's
  // channel, and the page shows it in its own column.
  const multi = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  await multi.goto(`${base}/?channels=a,b`);
  await multi.waitForFunction(() => document.getElementById("status-text").textContent === "live");
  for (const [channel, data] of [["a", "to a"], ["b", "to b"]]) {
    const res = await fetch(`${base}/${channel}`, { method: "POST", body: data });
    check(res.ok, `POST to /${channel} publishes (${res.status})`);
  }
  await multi.waitForFunction(() => document.querySelectorAll("tbody tr").length === 2);
  const channels = await multi.$$eval("tbody tr", (trs) => trs.map((tr) =>
    `${tr.querySelector("td.channel")?.textContent}:${tr.querySelector("td.data").textContent}`));
  check(JSON.stringify(channels) === '["/a:to a","/b:to b"]', `each event shows its channel (${channels})`);
  check(await multi.evaluate(() => { const th = document.querySelector("th.channel"); return !!th && getComputedStyle(th).display !== "none"; }),
    "in a channel column");
  const idLines = await multi.$$eval("tbody td.id", (tds) => tds.map((td) => {
    const range = document.createRange();
    range.selectNodeContents(td);
    return `${td.textContent.length} digits: ${range.getClientRects().length} line(s)`;
  }));
  check(idLines.length === 2 && idLines.every((l) => l === "16 digits: 1 line(s)"),
    `ssed's 16-digit ids fit on one line in their column (${idLines})`);
  await multi.screenshot({ path: `${artifacts}/viewer-channels.png` });
  await multi.close();

  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: `${artifacts}/viewer-dark.png` });
  await page.setViewportSize({ width: 375, height: 700 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, "usable at phone width (no sideways scrolling)");
  await page.screenshot({ path: `${artifacts}/viewer-phone.png` });
}

await run(main, async () => {
  if (browser) await browser.close();
  await stopSsed();
});
