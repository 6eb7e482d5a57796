// Tokens in Chromium: a page's EventSource carries a JWT in a cookie
// (--jwt-cookie) to its own origin, and with withCredentials to another
// origin that --cors names (Access-Control-Allow-Credentials); a channel
// the token does not allow is refused; a stream ends at the token's exp,
// and the EventSource reconnects by itself with the fresh cookie the page
// set meanwhile and resumes by Last-Event-ID, losing nothing.
// ssed listens on two ports: the page's origin and the events' origin
// differ by port, so they are one site (cookies go to both) but two origins.
// Usage: node jwt_test.mjs SSED PORT1 PORT2
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { check, launchChromium, run, startSsed, stopProcess, waitFor } from "./harness.mjs";

const [ssedPath, port1, port2] = process.argv.slice(2);
const page1 = `http://127.0.0.1:${port1}`;
const events = `http://127.0.0.1:${port2}`;
const dir = mkdtempSync(join(tmpdir(), "ssed-jwt-"));
const secret = randomBytes(32).toString("hex");
writeFileSync(join(dir, "secret"), secret);
let ssed, browser;

const b64url = (s) => Buffer.from(s).toString("base64url");
function mint(claims) {
  const input = `${b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}
const nowS = () => Math.floor(Date.now() / 1000);

async function publish(channel, data) {
  const res = await fetch(`${page1}/${channel}`, {
    method: "POST", body: data, headers: { Authorization: "Bearer pub-token" },
  });
  if (res.status !== 200) throw new Error(`publish to ${channel}: ${res.status}`);
}

// In the page: an EventSource on url, what it got, and whether it gave up.
function follow(page, name, url, withCredentials) {
  return page.evaluate(([name, url, withCredentials]) => {
    const s = { got: [], closed: false, opened: 0 };
    window[name] = s;
    const source = new EventSource(url, { withCredentials });
    source.onopen = () => s.opened++;
    source.onmessage = (ev) => s.got.push(ev.data);
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) s.closed = true; };
    window[name + "_source"] = source;
  }, [name, url, withCredentials]);
}
const state = (page, name) => page.evaluate((n) => window[n], name);

async function setCookie(context, token) {
  await context.addCookies([{ name: "ssed_token", value: token, url: page1 }]);
}

async function main() {
  ssed = await startSsed(ssedPath, ["-l", `127.0.0.1:${port1}`, "-l", `127.0.0.1:${port2}`, "--no-stdin",
    "--jwt-secret-file", join(dir, "secret"), "--jwt-cookie", "ssed_token", "--jwt-leeway", "0",
    "--cors", page1, "--token", "pub-token", "--retry", "200ms", "--no-ui", "--keepalive", "0"]);
  browser = await launchChromium();
  const context = await browser.newContext();
  const page = await context.newPage();
  await setCookie(context, mint({ exp: nowS() + 600, ssed: { subscribe: ["orders/*"] } }));
  await page.goto(`${page1}/_ssed/health`);

  // Same origin, the cookie; a cross-origin stream with credentials; one
  // without (no cookie: 401); a channel the token does not allow (403).
  await follow(page, "same", "/orders/1", false);
  await follow(page, "cross", `${events}/orders/1`, true);
  await follow(page, "anon", `${events}/orders/1`, false);
  await follow(page, "denied", "/secret/1", false);
  await waitFor(async () => (await state(page, "same")).opened && (await state(page, "cross")).opened,
    10000, "both streams open");
  await publish("orders/1", "first");
  await waitFor(async () => (await state(page, "cross")).got.length >= 1 && (await state(page, "same")).got.length >= 1,
    10000, "the event on both streams");
  check((await state(page, "same")).got.join() === "first", "same origin: the cookie's token opens the stream");
  check((await state(page, "cross")).got.join() === "first",
    "cross origin with withCredentials: the cookie goes, Allow-Credentials lets the page read");
  await waitFor(async () => (await state(page, "anon")).closed, 10000, "the stream without credentials closed");
  check((await state(page, "anon")).got.length === 0, "cross origin without credentials: no cookie, refused");
  await waitFor(async () => (await state(page, "denied")).closed, 10000, "the denied stream closed");
  check((await state(page, "denied")).got.length === 0, "a channel the token does not allow: refused for good");
  await page.evaluate(() => { for (const n of ["same", "cross", "anon", "denied"]) window[n + "_source"].close(); });

  // Expiry: a token good for 6 s (times SSETOOLS_WAIT_SCALE, so a loaded
  // machine still opens the stream before exp); events published every
  // 100 ms across it until the EventSource has reconnected, and ten more;
  // the page's cookie refreshed before exp, as an application would.
  const scale = Number(process.env.SSETOOLS_WAIT_SCALE || 1);
  const lifetimeS = Math.ceil(6 * scale);
  await setCookie(context, mint({ exp: nowS() + lifetimeS, ssed: { subscribe: ["orders/*"] } }));
  await follow(page, "long", "/orders/2", false);
  await waitFor(async () => (await state(page, "long")).opened, 10000, "the short-lived stream open");
  const want = [];
  const deadline = Date.now() + (lifetimeS + 30 * scale) * 1000;
  for (let i = 1, after = 0; after < 10; i++) {
    if (Date.now() > deadline) throw new Error(`timed out: no reconnection ${lifetimeS} s after the token was made`);
    if (i === 2) await setCookie(context, mint({ exp: nowS() + 600, ssed: { subscribe: ["orders/*"] } }));
    await publish("orders/2", String(i));
    want.push(String(i));
    if ((await state(page, "long")).opened >= 2) after++;
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitFor(async () => (await state(page, "long")).got.length >= want.length, 15000,
    `all ${want.length} events after the reconnection`);
  const long = await state(page, "long");
  check(long.opened >= 2, `the stream ended at exp and the EventSource reconnected (${long.opened} opens)`);
  check(long.got.join() === want.join(), "every event once, in order, across the expiry");
}

await run(main, async () => {
  if (browser) await browser.close();
  await stopProcess(ssed);
  rmSync(dir, { recursive: true, force: true });
});
