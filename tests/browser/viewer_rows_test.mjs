// The viewer's rows and controls in Debian's Chromium (issue 30): the
// Resume button stays where it was while events pile up paused; a JSON row
// shows that it expands; the ssed-gap notice is in words; a 600 KiB line
// is clamped and expands on click; the time column is the publish time
// ssed's ids carry, not when the page received the event; at 390 px the
// time stays on one line.
// Usage: node viewer_rows_test.mjs SSED_BINARY PORT ARTIFACT_DIR
import { check, launchChromium, run, startSsed, stopProcess, waitFor } from "./harness.mjs";

const [ssedPath, port, artifacts] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
let ssed = null;
let browser = null;

const publish = async (channel, body, type) => {
  const res = await fetch(`${base}/${channel}${type ? `?event=${type}` : ""}`, { method: "POST", body });
  if (!res.ok) throw new Error(`POST /${channel}: ${res.status}`);
};

const rowCount = (page) => page.$$eval("tbody tr", (trs) => trs.length);

// The Resume button must stay where it was while the count beside it grows
// ("2000 waiting, 3000 dropped"), so that a second click still finds it.
async function resumeStaysPut(page) {
  await page.click("#pause");
  const before = await page.locator("#pause").boundingBox();
  const lines = [];
  for (let i = 0; i < 5000; i++) lines.push(`id: p${i}\ndata: held ${i}\n\n`);
  ssed.stdin.write(lines.join(""));
  await waitFor(async () => (await page.textContent("#count")).includes("dropped"), 20000,
    "the paused page counts dropped events");
  await waitFor(async () => (await page.textContent("#count")).includes("3000 dropped"), 20000,
    "all 5,000 events reached the paused page");
  const after = await page.locator("#pause").boundingBox();
  const where = (b) => `${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}x${Math.round(b.height)}`;
  check(Math.abs(after.x - before.x) < 1 && Math.abs(after.y - before.y) < 1 && Math.abs(after.width - before.width) < 1,
    `the Resume button stays put while paused events pile up (${where(before)} then ${where(after)}, count: ${await page.textContent("#count")})`);
  await page.mouse.click(before.x + before.width / 2, before.y + before.height / 2);
  const resumed = await waitFor(async () => (await page.textContent("#pause")) === "Pause", 5000, "resumed")
    .then(() => true, () => false);
  check(resumed, "a click where Resume first was resumes");
  if (!resumed) await page.click("#pause");
  await page.click("#clear");
}

async function main() {
  ssed = await startSsed(ssedPath, ["-l", `127.0.0.1:${port}`, "--format", "sse", "--history", "100",
    "--max-pending", "16MiB"]);
  browser = await launchChromium();

  // Published before the page opens: ssed's ids are the publish time in
  // microseconds since the epoch. The page's clock runs an hour ahead, so
  // the time it received an event is an hour after the one it was
  // published at.
  await publish("r", "published before the page opened");
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.setDefaultTimeout(15000);
  await page.clock.install({ time: Date.now() + 3600 * 1000 });
  await page.goto(`${base}/r?lastEventId=0`);
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length >= 1);
  const replayed = await page.$eval("tbody tr:last-child", (tr) => {
    const id = tr.querySelector("td.id").textContent;
    const fmt = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" });
    const dayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });
    // Between 23:00 and midnight the page's clock (an hour ahead) is on the
    // next day, and the row then names the day it was published too.
    const at = new Date(Number(id.slice(0, 13)));
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    const published = at < today ? `${dayFmt.format(at)}, ${fmt.format(at)}` : fmt.format(at);
    return { id, shown: tr.querySelector("td.time").textContent, title: tr.querySelector("td.time").title,
      published, now: fmt.format(new Date()) };
  });
  check(replayed.shown === replayed.published && replayed.shown !== replayed.now,
    `a replayed event shows when it was published (${replayed.shown}; published ${replayed.published}, page clock ${replayed.now})`);
  check(/published/.test(replayed.title), `its time says it is the publish time (${replayed.title})`);

  // The gap notice in words: what was asked for, the first event still held.
  const gapPage = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await gapPage.goto(`${base}/r?lastEventId=gone-42`);
  await gapPage.waitForFunction(() => document.querySelector("tr.notice td.data"));
  const gap = await gapPage.$eval("tr.notice", (tr) => ({ type: tr.querySelector("td.type").textContent,
    data: tr.querySelector("td.data").textContent }));
  check(gap.type === "ssed-gap" && !gap.data.startsWith("{") && gap.data.includes("gone-42") &&
    gap.data.includes(replayed.id) && /no longer/.test(gap.data), `the ssed-gap notice is in words (${gap.data})`);
  await gapPage.screenshot({ path: `${artifacts}/viewer-gap.png` });
  await gapPage.close();

  // Rows of this page's own channel from here on: the root, fed by stdin.
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.getElementById("status-text").textContent === "live");
  ssed.stdin.write('event: deploy\nid: j1\ndata: {"service":"api","v":1}\n\nid: t1\ndata: plain text\n\n');
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 2);
  const markers = await page.$$eval("tbody td.data", (tds) => tds.map((td) => {
    const summary = td.querySelector("summary");
    const content = summary ? getComputedStyle(summary, "::before").content : "none";
    return content === "none" || content === "normal" || content === '""' ? "" : content;
  }));
  check(markers[0] !== "" && markers[1] === "", `a JSON row shows that it expands, a plain one does not (${JSON.stringify(markers)})`);
  const receivedTitle = await page.$eval("tbody tr:last-child td.time", (td) => td.title);
  check(/received/.test(receivedTitle), `an id its publisher chose carries no time: the time is when it came (${receivedTitle})`);

  // A 600 KiB line is clamped to a few lines, and shown whole on a click.
  const long = "x".repeat(600 * 1024 - 3) + "END";
  ssed.stdin.write(`id: big\ndata: ${long}\n\n`);
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 3);
  const clamped = await page.$eval("tbody tr:last-child", (tr) => tr.getBoundingClientRect().height);
  check(clamped < 200, `a 600 KiB line is clamped (${Math.round(clamped)} px high)`);
  const more = await page.$("tbody tr:last-child td.data .more");
  check(more && /show all \(600 KiB\)/.test(await more.textContent()), "with a button that says how much it holds");
  if (more) {
    await more.click();
    await page.waitForFunction(() => document.querySelector("tbody tr:last-child td.data").textContent.includes("END"));
    const expanded = await page.$eval("tbody tr:last-child", (tr) => tr.getBoundingClientRect().height);
    check(expanded > 2000, `a click shows it whole (${Math.round(expanded)} px high)`);
    await more.click();
    await page.waitForFunction(() => document.querySelector("tbody tr:last-child").getBoundingClientRect().height < 200);
    check(true, "and a second click clamps it again");
  }
  await page.screenshot({ path: `${artifacts}/viewer-rows.png` });
  await page.fill("#filter", "xend");
  check(await page.$$eval("tbody tr:not([hidden])", (t) => t.length) === 1, "the text filter still finds the end of a clamped line");
  await page.fill("#filter", "");
  await page.click("#clear");

  await resumeStaysPut(page);

  // A time stays on one line and in its column, at phone width too and in
  // a locale that writes times long (fr-CA: "12 h 58 min 59 s"); so does
  // one published yesterday, which shows its day.
  const yesterday = new Date();
  yesterday.setDate(yesterday.getDate() - 1);
  yesterday.setHours(12, 58, 59, 0);
  const datedId = String(yesterday.getTime() * 1000 + 1);
  for (const locale of ["en-US", "fr-CA"]) {
    const context = await browser.newContext({ locale, viewport: { width: 1280, height: 800 } });
    const timed = await context.newPage();
    await timed.clock.install({ time: new Date(new Date().setHours(12, 58, 58, 0)) });
    await timed.goto(`${base}/`);
    await timed.waitForFunction(() => document.getElementById("status-text").textContent === "live");
    ssed.stdin.write(`id: ${datedId}\ndata: published yesterday\n\nid: x${locale}\ndata: received now\n\n`);
    await timed.waitForFunction(() => document.querySelectorAll("tbody tr").length === 2);
    for (const width of [390, 700, 1280]) {
      await timed.setViewportSize({ width, height: 800 });
      const lines = await timed.$$eval("tbody td.time", (tds) => tds.map((td) => {
        const range = document.createRange();
        range.selectNodeContents(td);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        const style = getComputedStyle(td);
        const room = style.display === "inline" ? Infinity
          : td.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return `${td.textContent}: ${tops.size} line(s)${range.getBoundingClientRect().width > room + 0.5 ? ", overflows" : ""}`;
      }));
      check(lines.length === 2 && lines.every((l) => l.endsWith(": 1 line(s)")),
        `${locale} at ${width} px: each time is on one line, in its column (${lines.join("; ")})`);
    }
    await timed.setViewportSize({ width: 390, height: 800 });
    await timed.screenshot({ path: `${artifacts}/viewer-rows-phone-${locale}.png` });
    await context.close();
  }
}

await run(main, async () => {
  if (browser) await browser.close();
  await stopProcess(ssed);
});
