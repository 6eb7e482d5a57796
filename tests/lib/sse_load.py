#!/usr/bin/env python3
"""Test clients for ssed's hardening tests: many subscribers in one process.
Every mode is bounded in time and connects to 127.0.0.1 only.

  feed --rate R --count N [--size S]   lines "<send-ns> <seq> <padding>" on stdout, R per second
  slow --port P --count N --hold S     N subscribers that never read a byte
  watch --port P --subs N --events E --timeout T
                                       N subscribers; checks that each gets seq 0..E-1 once, in
                                       order; prints a JSON summary with delivery latencies
  reconnect --port P --events E --disconnects K --timeout T
                                       one subscriber that drops its connection at random points
                                       K times and resumes with Last-Event-ID; checks exactly once
  resets --port P --seconds S          subscribers that vanish with a TCP reset, again and again
  census --port P --count N --hold S   N subscribers one after another; counts answers (200 kept
                                       open, 503, closed, no answer); holds the 200s for S seconds
  concurrent --port P --subs N --events E --timeout T
                                       8 publishers at once, E events each, in four styles (one POST
                                       per event, pipelined POSTs, many lines per POST, chunked
                                       bodies), six to /c and two to /d; N subscribers to /c and N to
                                       ?channels=c,d check every event arrives once, in one order
"""
import argparse
import json
import random
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from chunked_body import Body  # noqa: E402

REQUEST = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n%s\r\n"


def connect(port, path="/", last_id=None, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    extra = b"Last-Event-ID: %s\r\n" % last_id.encode() if last_id else b""
    s.sendall(REQUEST % (path.encode(), extra))
    return s


class Stream:
    """Incremental reader of one SSE response: yields (id, data) per event."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.head_done = False
        self.data = []
        self.last_id = None
        self.body = None  # the body's framing (chunked over HTTP/1.1)

    def feed(self, chunk):
        if not self.head_done:
            self.buf += chunk
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return []
            if not self.buf.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("not 200: %r" % self.buf[:80])
            self.body = Body(self.buf[: end + 4])
            chunk, self.buf = self.buf[end + 4 :], b""
            self.head_done = True
        self.buf += self.body.feed(chunk)
        del self.body.data[:]  # decoded bytes are taken here: none kept twice
        if self.body.error:
            raise RuntimeError("bad chunked framing: " + self.body.error)
        events = []
        lines = self.buf.split(b"\n")
        self.buf = lines.pop()
        for line in lines:
            if line == b"":
                if self.data:
                    events.append((self.last_id, b"\n".join(self.data)))
                self.data = []
            elif line.startswith(b"data: "):
                self.data.append(line[6:])
            elif line.startswith(b"id: "):
                self.last_id = line[4:].decode()
        return events


def cmd_feed(a):
    pad = b"x" * max(0, a.size)
    start = time.monotonic()
    out = sys.stdout.buffer
    for seq in range(a.count):
        due = start + seq / a.rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        out.write(b"%d %d %s\n" % (time.time_ns(), seq, pad))
        out.flush()


def cmd_slow(a):
    socks = []
    for _ in range(a.count):
        socks.append(connect(a.port, rcvbuf=4096))
    print("open %d" % len(socks), flush=True)
    deadline = time.monotonic() + a.hold
    while time.monotonic() < deadline:
        time.sleep(0.2)


def cmd_watch(a):
    streams = [Stream(connect(a.port, a.path)) for _ in range(a.subs)]
    for st in streams:
        st.sock.setblocking(False)
    seqs = [[] for _ in streams]
    latencies = []
    poller = select.poll()
    by_fd = {}
    for i, st in enumerate(streams):
        poller.register(st.sock, select.POLLIN)
        by_fd[st.sock.fileno()] = i
    print("subscribed %d" % len(streams), flush=True)
    deadline = time.monotonic() + a.timeout
    done = 0
    closed = set()
    while done < len(streams) and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            i = by_fd[fd]
            try:
                chunk = streams[i].sock.recv(1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                poller.unregister(fd)
                closed.add(i)
                done += 1
                continue
            now = time.time_ns()
            for _, data in streams[i].feed(chunk):
                sent, seq = data.split(b" ", 2)[:2]
                latencies.append((now - int(sent)) / 1e6)
                seqs[i].append(int(seq))
                if len(seqs[i]) == a.events:
                    poller.unregister(fd)
                    done += 1
    latencies.sort()
    complete = sum(1 for s in seqs if len(s) == a.events)
    in_order = sum(1 for s in seqs if s == list(range(a.events)))
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else None
    print(json.dumps({"subscribers": a.subs, "complete": complete, "in_order": in_order, "closed_early": len(closed),
                      "events_received": sum(len(s) for s in seqs), "p50_ms": pct(0.5), "p99_ms": pct(0.99),
                      "max_ms": latencies[-1] if latencies else None}), flush=True)


def cmd_reconnect(a):
    rng = random.Random(a.seed)
    seen = []
    last_id = None
    drops = 0
    gaps = 0
    deadline = time.monotonic() + a.timeout
    while len(seen) < a.events and time.monotonic() < deadline:
        st = Stream(connect(a.port, a.path, last_id))
        st.sock.settimeout(1)
        budget = rng.randint(1, max(2, 2 * a.events // max(1, a.disconnects)))
        got = 0
        while got < budget and len(seen) < a.events and time.monotonic() < deadline:
            try:
                chunk = st.sock.recv(rng.choice([1, 7, 100, 4096, 65536]))
            except socket.timeout:
                continue
            if not chunk:
                break
            if b"event: ssed-gap" in chunk:
                gaps += 1
            for ev_id, data in st.feed(chunk):
                if data.startswith(b"{"):
                    continue
                seen.append(int(data.split(b" ", 2)[1]))
                last_id = ev_id
                got += 1
        # Vanish mid-stream, sometimes with a reset, sometimes politely.
        if rng.random() < 0.5:
            st.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        st.sock.close()
        drops += 1
    print(json.dumps({"events": len(seen), "expected": a.events, "exactly_once_in_order": seen == list(range(a.events)),
                      "reconnects": drops, "gaps": gaps, "duplicates": len(seen) - len(set(seen))}), flush=True)


def cmd_resets(a):
    deadline = time.monotonic() + a.seconds
    count = 0
    while time.monotonic() < deadline:
        socks = [connect(a.port) for _ in range(20)]
        for s in socks:
            try:
                s.recv(random.choice([10, 1000, 100000]))
            except socket.timeout:
                pass
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            count += 1
    print(json.dumps({"reset_subscribers": count}), flush=True)


def cmd_census(a):
    counts = {"ok": 0, "busy": 0, "closed": 0, "no_answer": 0}
    kept = []
    for _ in range(a.count):
        try:
            s = connect(a.port)
        except OSError:
            counts["closed"] += 1
            continue
        s.settimeout(3)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
        except socket.timeout:
            counts["no_answer"] += 1
            s.close()
            continue
        except ConnectionResetError:
            head = b""
        if head.startswith(b"HTTP/1.1 200"):
            counts["ok"] += 1
            kept.append(s)
        elif head.startswith(b"HTTP/1.1 503"):
            counts["busy"] += 1
            s.close()
        else:
            counts["closed"] += 1
            s.close()
    print(json.dumps(counts), flush=True)
    deadline = time.monotonic() + a.hold
    while time.monotonic() < deadline:
        time.sleep(0.1)


def read_answer(f):
    """One HTTP answer from a file over a socket: (status, body)."""
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, f.read(length)


def post_head(path, length=None):
    size = b"Content-Length: %d\r\n" % length if length is not None else b"Transfer-Encoding: chunked\r\n"
    return b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n%s\r\n" % (path.encode(), size)


def publisher(port, k, path, events, results):
    """Publish lines "k i" for i in 0..events-1 in style k % 4; record how many were accepted."""
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    f = s.makefile("rb")
    lines = [b"%d %d" % (k, i) for i in range(events)]
    batches, style = [], k % 4
    if style in (0, 1):
        batches = [[line] for line in lines]
    else:
        rng, i = random.Random(k), 0
        while i < events:
            n = rng.randint(1, 7)
            batches.append(lines[i:i + n])
            i += n
    accepted, failures, window = 0, [], 10 if style == 1 else 1
    for start in range(0, len(batches), window):
        group = batches[start:start + window]
        for batch in group:
            if style == 3:
                s.sendall(post_head(path) + b"".join(b"%x\r\n%s\n\r\n" % (len(l) + 1, l) for l in batch) + b"0\r\n\r\n")
            else:
                body = b"\n".join(batch)
                s.sendall(post_head(path, len(body)) + body)
        for _ in group:
            status, body = read_answer(f)
            if status != 200:
                failures.append("%d %s" % (status, body[:80]))
            else:
                accepted += json.loads(body)["accepted"]
    s.close()
    results[k] = (accepted, failures)


def cmd_concurrent(a):
    publishers = 8
    to_c = [k for k in range(publishers) if k < 6]
    single = [Stream(connect(a.port, "/c")) for _ in range(a.subs)]
    multi = [Stream(connect(a.port, "/?channels=c,d")) for _ in range(a.subs)]
    streams = single + multi
    got = [[] for _ in streams]  # (id, data) per subscriber
    poller, by_fd = select.poll(), {}
    for i, st in enumerate(streams):
        st.sock.setblocking(False)
        poller.register(st.sock, select.POLLIN)
        by_fd[st.sock.fileno()] = i
    # Publish only once every subscriber's answer head has arrived.
    deadline = time.monotonic() + a.timeout
    while not all(st.head_done for st in streams) and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            streams[by_fd[fd]].feed(streams[by_fd[fd]].sock.recv(65536))
    results = {}
    threads = [threading.Thread(target=publisher, args=(a.port, k, "/c" if k in to_c else "/d", a.events, results))
               for k in range(publishers)]
    for t in threads:
        t.start()
    want = [len(to_c) * a.events] * len(single) + [publishers * a.events] * len(multi)
    open_count = len(streams)
    while open_count and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            i = by_fd[fd]
            try:
                chunk = streams[i].sock.recv(1 << 20)
            except BlockingIOError:
                continue
            got[i].extend(streams[i].feed(chunk) if chunk else [])
            if not chunk or len(got[i]) >= want[i]:
                poller.unregister(fd)
                open_count -= 1
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    problems = []
    for k in range(publishers):
        accepted, failures = results.get(k, (0, ["publisher did not finish"]))
        if accepted != a.events or failures:
            problems.append("publisher %d: %d accepted, %s" % (k, accepted, failures[:3]))
    expect_c = {b"%d %d" % (k, i) for k in to_c for i in range(a.events)}
    expect_all = {b"%d %d" % (k, i) for k in range(publishers) for i in range(a.events)}
    c_orders = []
    for i, events in enumerate(got):
        who = "subscriber %d (%s)" % (i, "/c" if i < len(single) else "?channels=c,d")
        datas = [d for _, d in events]
        ids = [int(x) for x, _ in events]
        expect = expect_c if i < len(single) else expect_all
        if len(datas) != len(set(datas)):
            problems.append("%s: %d duplicates" % (who, len(datas) - len(set(datas))))
        if set(datas) != expect:
            problems.append("%s: %d of %d events" % (who, len(set(datas) & expect), len(expect)))
        if any(b <= a_ for a_, b in zip(ids, ids[1:])):
            problems.append("%s: ids not increasing" % who)
        per_pub = {}
        for d in datas:
            k, n = map(int, d.split())
            if per_pub.get(k, -1) >= n:
                problems.append("%s: publisher %d's events out of order" % (who, k))
                break
            per_pub[k] = n
        c_orders.append([d for d in datas if int(d.split()[0]) in to_c])
    if any(order != c_orders[0] for order in c_orders):
        problems.append("subscribers saw /c's events in different orders")
    print(json.dumps({"subscribers": len(streams), "events": [len(g) for g in got][:4], "problems": problems[:10]}),
          flush=True)
    sys.exit(1 if problems else 0)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("feed")
    f.add_argument("--rate", type=float, required=True)
    f.add_argument("--count", type=int, required=True)
    f.add_argument("--size", type=int, default=0)
    for name in ("slow", "watch", "reconnect", "resets", "census", "concurrent"):
        q = sub.add_parser(name)
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--path", default="/")
        q.add_argument("--count", type=int, default=1)
        q.add_argument("--hold", type=float, default=10)
        q.add_argument("--subs", type=int, default=1)
        q.add_argument("--events", type=int, default=100)
        q.add_argument("--timeout", type=float, default=30)
        q.add_argument("--disconnects", type=int, default=50)
        q.add_argument("--seconds", type=float, default=3)
        q.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    {"feed": cmd_feed, "slow": cmd_slow, "watch": cmd_watch, "reconnect": cmd_reconnect, "resets": cmd_resets,
     "census": cmd_census, "concurrent": cmd_concurrent}[a.mode](a)


if __name__ == "__main__":
    main()
