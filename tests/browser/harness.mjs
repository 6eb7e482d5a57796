// What the viewer's Chromium tests share: TAP-like checks, Debian's
// chromium launched headless through playwright-core, an ssed started on a
// port and stopped by its PID, and one way to end a run.
import { spawn } from "node:child_process";
import { chromium } from "playwright-core";

let failures = 0;

export function check(ok, what) {
  console.log(`${ok ? "ok" : "FAIL"} - ${what}`);
  if (!ok) failures++;
}

// extraArgs: more switches, such as --ignore-certificate-errors for a
// test's own certificate.
export function launchChromium(extraArgs = []) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", ...extraArgs],
  });
}

// ssed with these arguments, once it says it is serving; its stdin is a pipe.
export async function startSsed(ssedPath, args) {
  const child = spawn(ssedPath, args, { stdio: ["pipe", "ignore", "pipe"] });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("ssed did not start")), 10000);
    child.stderr.on("data", (d) => { if (String(d).includes("serving")) { clearTimeout(timer); resolve(); } });
    child.on("exit", (code) => reject(new Error(`ssed exited with ${code}`)));
  });
  child.on("exit", () => {});
  return child;
}

// TERM, up to 5 s, then KILL.
export async function stopProcess(child) {
  if (!child) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

// Run main, count an exception as a failure, always clean up, and exit 1 if
// any check failed.
export async function run(main, cleanup) {
  try {
    await main();
  } catch (err) {
    console.log(`FAIL - ${err.message}`);
    failures++;
  } finally {
    await cleanup();
  }
  console.log(failures ? `${failures} checks failed` : "all checks passed");
  process.exit(failures ? 1 : 0);
}

// Poll cond every 50 ms for up to ms (times SSETOOLS_WAIT_SCALE on a slow
// machine); throws with what when it never holds.
export async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms * Number(process.env.SSETOOLS_WAIT_SCALE || 1);
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out: ${what}`);
}
