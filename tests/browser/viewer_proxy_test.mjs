// The viewer page behind a reverse proxy that serves ssed under a path
// prefix, in Debian's Chromium driven by playwright-core: the page's style,
// script and stream are linked relative to the page, so they load through
// the proxy. PAGE_URL is the page through the proxy; PUBLISH_URL is where
// an event for that page's channel is POSTed.
// Usage: node viewer_proxy_test.mjs PAGE_URL PUBLISH_URL
import { check, launchChromium, run } from "./harness.mjs";

const [pageUrl, publishUrl] = process.argv.slice(2);
let browser = null;

async function main() {
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1100, height: 640 } });
  page.setDefaultTimeout(15000);
  const failed = [];
  page.on("response", (r) => { if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) failed.push(`${r.status()} ${r.url()}`); });
  const response = await page.goto(pageUrl);
  check(response.headers()["content-type"].startsWith("text/html"), `the page loads through the proxy (${pageUrl})`);
  await page.waitForFunction(() => document.getElementById("status-text").textContent === "live");
  check(true, "its script runs and its stream is live");
  check(await page.evaluate(() => getComputedStyle(document.body).display === "flex"), "its style sheet applies");
  const res = await fetch(publishUrl, { method: "POST", body: "through the proxy" });
  check(res.ok, `an event is published (${res.status})`);
  await page.waitForFunction(() => [...document.querySelectorAll("tbody td.data")].some((td) => td.textContent === "through the proxy"));
  check(true, "and shown");
  check(failed.length === 0, `no request failed (${failed.join(", ")})`);
}

await run(main, async () => {
  if (browser) await browser.close();
});
