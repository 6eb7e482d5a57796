#!/usr/bin/env python3
"""ssed over TLS next to plaintext, HTTP/1.1 both: what TLS costs the server.

Usage: tls_fanout.py SSED [SUBSCRIBERS] [EVENTS]   (defaults 500 and 2000)

For each of plaintext and TLS it starts ssed, connects SUBSCRIBERS
subscribers from this process, and prints:
  - idle memory: ssed's RSS growth per subscriber once all are connected
    and idle (VmRSS of /proc/PID/status);
  - fan-out: EVENTS events of 100 bytes written to ssed's stdin at once,
    delivered to every subscriber; ssed's CPU time (utime + stime) per
    delivery and deliveries per second of wall time, counted by ssed itself
    (events_delivered in /_ssed/stats, asked on a plaintext listener).
The client here is Python and shares the machine, so the wall-time rate is
a floor; the CPU per delivery is ssed's own. Prints figures, asserts
nothing."""
import json
import os
import selectors
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

ssed = sys.argv[1]
subs = int(sys.argv[2]) if len(sys.argv) > 2 else 500
events = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
tick = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_ssed/stats", timeout=5) as r:
        return json.load(r)


def wait_until(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit(f"tls_fanout: timed out waiting for {what}")


def subscribe(port, tls_ctx):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls_ctx:
        s = tls_ctx.wrap_socket(s)
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    s.setblocking(False)
    return s


def drain(sel, budget_s):
    """Read whatever has arrived, for up to budget_s."""
    for key, _ in sel.select(timeout=budget_s):
        sock = key.fileobj
        try:
            while sock.recv(65536):
                pass
        except (ssl.SSLWantReadError, BlockingIOError):
            pass


def run(mode, certs):
    port, stats_port = free_port(), free_port()
    args = [ssed, "-q", "-l", f"http://127.0.0.1:{stats_port}", "--max-pending", "64MiB", "--keepalive", "0",
            "--max-clients", str(subs + 100)]
    tls_ctx = None
    if mode == "tls":
        args += ["-l", f"https://127.0.0.1:{port}", "--tls-cert", certs + "/c.pem", "--tls-key", certs + "/k.pem"]
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls_ctx.check_hostname = False
        tls_ctx.verify_mode = ssl.CERT_NONE
    else:
        args += ["-l", f"http://127.0.0.1:{port}"]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE)
    try:
        wait_until(lambda: _answers(stats_port), 10, "ssed to start")
        rss_before = rss_kib(proc.pid)
        sel = selectors.DefaultSelector()
        for _ in range(subs):
            sel.register(subscribe(port, tls_ctx), selectors.EVENT_READ)
        wait_until(lambda: (drain(sel, 0), stats(stats_port)["subscribers"] >= subs)[1], 60, "subscribers")
        for _ in range(10):
            drain(sel, 0.05)
        rss_idle = rss_kib(proc.pid)
        base = stats(stats_port)["events_delivered"]
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        payload = b"".join(b"%06d %s\n" % (i, b"x" * 93) for i in range(events))
        proc.stdin.write(payload)
        proc.stdin.flush()
        want = base + subs * events
        deadline = time.monotonic() + 300
        delivered = base
        while delivered < want and time.monotonic() < deadline:
            drain(sel, 0.02)
            delivered = stats(stats_port)["events_delivered"]
        wall, cpu = time.monotonic() - t0, cpu_seconds(proc.pid) - cpu0
        n = delivered - base
        print(f"{mode:9s} idle: {(rss_idle - rss_before) * 1024 / subs:8.0f} bytes/subscriber   "
              f"fan-out: {n} deliveries, {cpu * 1e6 / max(n, 1):6.2f} us ssed CPU each, "
              f"{n / wall:10.0f}/s wall")
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        return cpu / max(n, 1), (rss_idle - rss_before) / subs
    finally:
        proc.stdin.close()
        proc.terminate()
        proc.wait(timeout=10)


def _answers(port):
    try:
        stats(port)
        return True
    except OSError:
        return False


with tempfile.TemporaryDirectory() as certs:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=localhost", "-keyout", certs + "/k.pem", "-out", certs + "/c.pem"],
                   check=True, stderr=subprocess.DEVNULL)
    print(f"== plaintext vs TLS HTTP/1.1: {subs} subscribers, {events} events of 100 bytes")
    plain_cpu, plain_mem = run("plaintext", certs)
    tls_cpu, tls_mem = run("tls", certs)
    print(f"TLS/plaintext: ssed CPU per delivery x{tls_cpu / plain_cpu:.2f} "
          f"(fan-out throughput at equal CPU x{plain_cpu / tls_cpu:.2f}; target >= 0.6); "
          f"idle TLS subscriber costs {tls_mem - plain_mem:.1f} KiB more than a plaintext one")
