#!/usr/bin/env python3
"""ssed's fan-out over plaintext HTTP/1.1, TLS HTTP/1.1 and TLS HTTP/2, side by side.

Usage: tls_fanout.py BUILD_DIR

Rows, each to the same number of subscribers (BENCH_TLS_SUBS, 1,000):
  plaintext HTTP/1.1   one connection per subscriber
  TLS HTTP/1.1         one connection per subscriber, TLS 1.3
  h2c HTTP/2           subscribers share BENCH_H2_CONNS (10) cleartext
                       connections (prior knowledge), 100 streams each
  TLS HTTP/2           the same over TLS 1.3 (h2 agreed by ALPN)
Every row has the same client, tests/bench/h2_loadgen.c (built here; one
epoll loop in C, so the client is not what limits ssed), and every row is
fed the same way, through ssed's stdin, once every subscriber is connected,
with 100-byte events (one line each), in two feeds:
  burst   BENCH_TLS_EVENTS (5,000) events in one write: ssed owes each
          subscriber many events and writes them together (its ceiling);
  paced   BENCH_TLS_RATE (100) events a second for BENCH_TLS_SECONDS (3),
          one write each: every event goes out on its own, so each costs a
          write per HTTP/1.1 subscriber but one per HTTP/2 connection.
Each run starts a fresh ssed and measures, from the first write until ssed's
own count of deliveries (events_delivered in /_ssed/stats, asked on a
plaintext listener) reaches subscribers x events:
  - ssed's CPU time (its threads' run time in /proc/PID/task/*/schedstat,
    in nanoseconds where /proc/PID/stat counts 10 ms ticks) per delivery; its
    inverse, deliveries per CPU second, is the fan-out figure the targets
    compare, as it does not depend on what else the machine runs;
  - deliveries per second of wall time (client and server share the cores;
    paced, this is the offered rate when ssed keeps up);
  - socket writes per delivery and bytes per write (syscw and wchar of
    /proc/PID/io: ssed writes with writev, and OpenSSL with write).
The client then checks that every stream received every event. Each row runs
BENCH_TLS_RUNS (3) times and the medians are printed, with the targets, for
each feed, as met or NOT met:
  - TLS HTTP/1.1 fan-out >= 0.6 x plaintext HTTP/1.1;
  - TLS HTTP/2 fan-out >= plaintext HTTP/1.1 (one write carries many
    subscribers' events, so fewer, fuller writes pay for the encryption).
Environment: BENCH_TLS_SUBS, BENCH_TLS_EVENTS, BENCH_TLS_RATE,
BENCH_TLS_SECONDS, BENCH_TLS_RUNS, BENCH_H2_CONNS, and BENCH_QUICK=1 (one
run, 1,000 events, 1 s paced). Skips (exit 0) when ssed was built without
TLS (make TLS=0) or h2_loadgen cannot be built; drops the HTTP/2 rows when
ssed was built without HTTP/2 (make H2=0). Prints figures, asserts nothing."""
import json
import os
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

build = sys.argv[1] if len(sys.argv) > 1 else "build"
ssed = os.path.join(build, "ssed")
loadgen = os.path.join(build, "h2_loadgen")
bench = os.path.dirname(os.path.abspath(__file__))
quick = os.environ.get("BENCH_QUICK") == "1"
subs = int(os.environ.get("BENCH_TLS_SUBS", "1000"))
events = int(os.environ.get("BENCH_TLS_EVENTS", "1000" if quick else "5000"))
runs = int(os.environ.get("BENCH_TLS_RUNS", "1" if quick else "3"))
h2_conns = int(os.environ.get("BENCH_H2_CONNS", "10"))
rate = int(os.environ.get("BENCH_TLS_RATE", "100"))
seconds = int(os.environ.get("BENCH_TLS_SECONDS", "1" if quick else "3"))

ROWS = [  # name, TLS, HTTP/2
    ("plaintext HTTP/1.1", False, False),
    ("TLS HTTP/1.1", True, False),
    ("h2c HTTP/2", False, True),
    ("TLS HTTP/2", True, True),
]


def say(msg):
    print(f"tls_fanout: {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    """CPU time of all PID's threads, from schedstat: nanoseconds, where
    utime + stime in /proc/PID/stat count whole clock ticks (10 ms)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as f:
            total += int(f.read().split()[0])
    return total / 1e9


def write_counts(pid):
    """(write calls, bytes written) of PID so far, from /proc/PID/io."""
    with open(f"/proc/{pid}/io") as f:
        io = dict(line.split(": ") for line in f.read().splitlines())
    return int(io["syscw"]), int(io["wchar"])


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_ssed/stats", timeout=5) as r:
        return json.load(r)


def answers(port):
    try:
        stats(port)
        return True
    except OSError:
        return False


def wait_until(cond, limit, what):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def read_line(pipe, limit, what):
    ready, _, _ = select.select([pipe], [], [], limit)
    if not ready:
        raise RuntimeError(f"timed out waiting for {what}")
    return pipe.readline().decode().strip()


def start_ssed(tls, h2, certs, port, stats_port):
    args = [ssed, "-q", "-l", f"http://127.0.0.1:{stats_port}", "--max-pending", "64MiB", "--keepalive", "0",
            "--max-clients", str(subs + 100)]
    if h2:
        args += ["--h2-max-streams", str(max(256, subs // h2_conns))]
    if tls:
        args += ["-l", f"https://127.0.0.1:{port}", "--tls-cert", certs + "/c.pem", "--tls-key", certs + "/k.pem"]
    else:
        args += ["-l", f"http://127.0.0.1:{port}"]
    return subprocess.Popen(args, stdin=subprocess.PIPE)


def start_loadgen(tls, h2, port, count):
    conns, streams = (h2_conns, subs // h2_conns) if h2 else (subs, 1)
    args = [loadgen, "--port", str(port), "--conns", str(conns), "--streams", str(streams), "--expect", str(count),
            "--seconds", "300"]
    args += ["--tls"] if tls else []
    args += [] if h2 else ["--http1"]
    return subprocess.Popen(args, stdout=subprocess.PIPE)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def event_line(i):
    return b"%06d %s\n" % (i, b"x" * 93)


def feed_burst(server, count):
    """Every event in one write: ssed then owes each subscriber many events
    and writes them together."""
    server.stdin.write(b"".join(event_line(i) for i in range(count)))
    server.stdin.flush()


def feed_paced(server, count):
    """One event per write, BENCH_TLS_RATE a second: each event goes out
    on its own, one write per subscriber over HTTP/1.1."""
    fd, t0, sent = server.stdin.fileno(), time.monotonic(), 0
    while sent < count:
        due = min(count, int((time.monotonic() - t0) * rate) + 1)
        for i in range(sent, due):
            os.write(fd, event_line(i))
        sent = due
        time.sleep(max(0.0, t0 + sent / rate - time.monotonic()))


def one_run(tls, h2, certs, feed, count):
    """One fresh ssed and client, COUNT events fed by FEED; returns (CPU us
    per delivery, deliveries/s, writes per delivery, bytes per write)."""
    port, stats_port = free_port(), free_port()
    server = start_ssed(tls, h2, certs, port, stats_port)
    client = None
    try:
        wait_until(lambda: answers(stats_port), 10, "ssed to start")
        client = start_loadgen(tls, h2, port, count)
        line = read_line(client.stdout, 60, "the subscribers to connect")
        if not line.startswith("ready"):
            raise RuntimeError(f"h2_loadgen: {line or 'exited before its subscribers were ready'}")
        wait_until(lambda: stats(stats_port)["subscribers"] >= subs, 30, "ssed to count the subscribers")
        base = stats(stats_port)["events_delivered"]
        cpu0, (w0, b0), t0 = cpu_seconds(server.pid), write_counts(server.pid), time.monotonic()
        feed(server, count)
        want, delivered = base + subs * count, base
        deadline = time.monotonic() + 300
        while delivered < want and time.monotonic() < deadline:
            delivered = stats(stats_port)["events_delivered"]
            time.sleep(0.01)
        wall, cpu = time.monotonic() - t0, cpu_seconds(server.pid) - cpu0
        w1, b1 = write_counts(server.pid)
        n = delivered - base
        try:
            got = read_line(client.stdout, 30, "the client to receive every event")
        except RuntimeError:
            client.terminate()  # it then prints what it has, and which streams fell short
            got = read_line(client.stdout, 10, "the client's count")
        if got != f"events={subs * count} streams={subs} closed=0":
            say(f"the client did not receive every event: {got} (wanted events={subs * count})")
        return cpu * 1e6 / max(n, 1), n / wall, (w1 - w0) / max(n, 1), (b1 - b0) / max(w1 - w0, 1)
    finally:
        if client:
            stop(client)
        server.stdin.close()
        stop(server)


def skip_reason():
    probe = subprocess.run([ssed, "--tls-cert", "/dev/null", "--tls-key", "/dev/null"], capture_output=True, text=True,
                           timeout=10)
    if "built without TLS" in probe.stderr:
        return "ssed was built without TLS (make TLS=0): skipped"
    build_cmd = [os.environ.get("CC", "cc"), "-O2", "-g", "-std=c11", "-Wall", "-Wextra", "-D_GNU_SOURCE", "-o", loadgen,
                 os.path.join(bench, "h2_loadgen.c"), "-lnghttp2", "-lssl", "-lcrypto"]
    if subprocess.run(build_cmd).returncode != 0:
        return "h2_loadgen did not build (libnghttp2-dev, libssl-dev): skipped"
    return None


def has_h2():
    with open(ssed, "rb") as f:
        return b"nghttp2_session_mem_recv" in f.read()


def run_rows(rows, certs, feed, count):
    """Each row BENCH_TLS_RUNS times; prints and returns the medians by row name."""
    print(f"{'':20s} {'us ssed CPU/delivery':>21s} {'deliveries/s wall':>18s} {'writes/delivery':>16s} "
          f"{'bytes/write':>12s}")
    medians = {}
    for name, tls, h2 in rows:
        results = []
        for _ in range(runs):
            try:
                results.append(one_run(tls, h2, certs, feed, count))
            except RuntimeError as e:
                say(f"{name}: {e}")
        if not results:
            continue
        m = [statistics.median(col) for col in zip(*results)]
        medians[name] = m
        print(f"{name:20s} {m[0]:21.3f} {m[1]:18,.0f} {m[2]:16.4f} {m[3]:12,.0f}   "
              f"(CPU per delivery of each run: {', '.join(f'{r[0]:.3f}' for r in results)})", flush=True)
    return medians


def report_targets(feed_name, medians):
    plain = medians.get("plaintext HTTP/1.1")
    if not plain:
        return
    for name, want in (("TLS HTTP/1.1", 0.6), ("TLS HTTP/2", 1.0)):
        if name in medians:
            ratio = plain[0] / medians[name][0]
            print(f"target ({feed_name}): {name} fan-out (deliveries per ssed CPU second) >= {want} x plaintext "
                  f"HTTP/1.1: {ratio:.2f} x (wall-time rate {medians[name][1] / plain[1]:.2f} x): "
                  f"{'met' if ratio >= want else 'NOT met'}")


def main():
    # A TERM (make interrupted) unwinds like ^C, so every finally stops its processes.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if subs % h2_conns:
        say(f"BENCH_TLS_SUBS ({subs}) is not a multiple of BENCH_H2_CONNS ({h2_conns})")
        return 2
    reason = skip_reason()
    if reason:
        say(reason)
        return 0
    rows = ROWS if has_h2() else [r for r in ROWS if not r[2]]
    if len(rows) < len(ROWS):
        say("ssed was built without HTTP/2 (make H2=0): the HTTP/2 rows are skipped")
    shape = f"{subs} subscribers (HTTP/2: {h2_conns} connections x {subs // h2_conns} streams)"
    with tempfile.TemporaryDirectory(prefix="ssetools-tls-fanout.") as certs:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", certs + "/k.pem", "-out",
                        certs + "/c.pem"], check=True, stderr=subprocess.DEVNULL)
        print(f"== fan-out, burst: {shape}, {events} events of 100 bytes written to ssed's stdin in one write; "
              f"medians of {runs}")
        burst = run_rows(rows, certs, feed_burst, events)
        print(f"== fan-out, paced: {shape}, {rate} events/s of 100 bytes for {seconds} s, one write to ssed's "
              f"stdin each; medians of {runs}")
        paced = run_rows(rows, certs, feed_paced, rate * seconds)
    report_targets("burst", burst)
    report_targets("paced", paced)
    return 0


if __name__ == "__main__":
    sys.exit(main())
