#!/usr/bin/env python3
"""The cluster soak (make soak): ssed nodes sharing a Redis, publishing and
subscribing while a random node is killed with SIGKILL and restarted.

For SOAK_SECONDS, SOAK_NODES nodes with --redis; SOAK_RATE events/s, half
as one POST per event (SSE-Publisher/SSE-Sequence, retried on another node
when its node dies, so an acknowledged event is one answered 200), half as
lines into ssepub (whose events count as acknowledged when it exits 0);
SOAK_SUBSCRIBERS subscribers (tests/soak/soak_client.c) spread over the
nodes, reconnecting to another node with Last-Event-ID when theirs dies;
every SOAK_KILL_EVERY seconds a random node gets SIGKILL and is started
again on its port. Every SOAK_LAG_EVERY seconds a random node lags: it is
stopped (SIGSTOP) for SOAK_LAG_SECONDS with every node's subscription cut
(CLIENT KILL TYPE pubsub; the others reconnect at once), and it reads the
streams back when it resumes; the last node publishes with --history SOAK_SMALL_HISTORY, which
trims the streams to that (0: off), so a lagging node can find a hole
older than the stream. At the end it prints events sent, acknowledged,
delivered per subscriber (min/median/max), duplicated and lost
(acknowledged and not delivered), split into lost by subscribers told of
a gap (ssed-gap) and lost silently, and exits 1 unless lost silently and
duplicated are both 0 (and no subscriber saw events out of order), 2 on a
usage error, 3 when the soak could not be set up.

Usage: cluster_soak.py BUILD_DIR
Environment: SOAK_SECONDS=300 SOAK_RATE=1000 SOAK_SUBSCRIBERS=1000
SOAK_NODES=3 SOAK_KILL_EVERY=10 SOAK_LAG_EVERY=15 SOAK_LAG_SECONDS=3
SOAK_SMALL_HISTORY=500 SOAK_KEEP=1 (keep the work directory)."""
import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHANNEL = "/soak"
# SSE-Publisher sessions (hex) of START and END; each POST thread has its own.
SESSION_START, SESSION_END = "50a4", "50a6"
POST_THREADS = 4  # one POST in flight each: a round trip is ~1 ms, more on a busy machine


class SetupError(Exception):
    pass


def env_int(name, default):
    try:
        v = int(os.environ.get(name, default))
    except ValueError:
        v = -1
    if v <= 0:
        sys.stderr.write("cluster_soak: %s must be a positive whole number\n" % name)
        sys.exit(2)
    return v


def sleep_until(when):
    time.sleep(max(0.0, when - time.monotonic()))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(path, pattern, seconds):
    """Wait until the file at path holds a line matching pattern."""
    deadline = time.monotonic() + seconds
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if any(rx.search(line) for line in f):
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return False


class Processes:
    """Every process the soak starts, stopped by PID at the end."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Cluster:
    def __init__(self, build, work, procs, nodes, small_history=0):
        self.build, self.work, self.procs = build, work, procs
        self.small_history = small_history
        self.redis_port = free_port()
        self.ports = [free_port() for _ in range(nodes)]
        self.nodes = [None] * nodes
        self.incarnation = [0] * nodes
        self.lock = threading.Lock()

    def start_redis(self):
        err = open(os.path.join(self.work, "redis.err"), "w")
        self.procs.start(["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", self.work], stdout=err, stderr=err)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), 1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise SetupError("redis-server did not start")

    def redis_command(self, command):
        """Send one inline command to Redis; its answer is not read."""
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), 5) as s:
                s.sendall(command)
                s.recv(64)
        except OSError:
            pass

    def start_node(self, i, history):
        """Start node i on its port; a port still held by the killed
        process' last connections is retried for up to 10 s. The last node
        keeps (and trims the streams to) the small history, if one is set."""
        if self.small_history and i == len(self.ports) - 1:
            history = self.small_history
        for _ in range(100):
            self.incarnation[i] += 1
            errpath = os.path.join(self.work, "node%d.%d.err" % (i, self.incarnation[i]))
            with open(errpath, "w") as err:
                p = self.procs.start([os.path.join(self.build, "ssed"), "--no-stdin", "-l",
                                      "127.0.0.1:%d" % self.ports[i], "--redis",
                                      "redis://127.0.0.1:%d" % self.redis_port, "--history", str(history),
                                      "--max-pending", "8MiB"], stdout=subprocess.DEVNULL, stderr=err)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and p.poll() is None:
                if wait_for(errpath, r"cluster \S+ ready", 0.1):
                    self.nodes[i] = p
                    return
            if p.poll() is None:
                raise SetupError("node %d did not become ready: see %s" % (i, errpath))
            with open(errpath, errors="replace") as f:
                said = f.read().strip()
            if "in use" not in said:
                raise SetupError("node %d exited: %s" % (i, said))
            time.sleep(0.1)
        raise SetupError("node %d could not start on port %d" % (i, self.ports[i]))

    def url(self, i):
        return "http://127.0.0.1:%d%s" % (self.ports[i], CHANNEL)


class PostPublisher(threading.Thread):
    """One POST per event, paced to rate/s; a failed POST is resent (same
    SSE-Sequence) to the next node until answered 200 or 30 s pass. Thread
    `index` of `count` sends events index, index + count, ..."""

    def __init__(self, cluster, rate, stop, index=0, count=1):
        super().__init__(daemon=True)
        self.cluster, self.rate, self.stop = cluster, rate, stop
        self.index, self.count = index, count
        self.session = "%x" % (0x50b0 + index)
        self.sent = 0
        self.acked = set()
        self.retries = 0
        self.conns = {}

    def post_once(self, node, body, session, seq):
        conn = self.conns.get(node)
        if conn is None:
            conn = self.conns[node] = http.client.HTTPConnection("127.0.0.1", self.cluster.ports[node], timeout=10)
        try:
            conn.request("POST", CHANNEL, body=body, headers={"SSE-Publisher": session,
                                                             "SSE-Sequence": str(seq)})
            resp = conn.getresponse()
            resp.read()
            return resp.status == 200
        except (OSError, http.client.HTTPException):
            conn.close()
            del self.conns[node]
            return False

    def publish(self, body, session, seq, node):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.post_once(node, body, session, seq):
                return True
            self.retries += 1
            node = (node + 1) % len(self.cluster.ports)
            time.sleep(0.02)
        return False

    def run(self):
        start = time.monotonic()
        j = 0
        while not self.stop.is_set():
            due = start + j / self.rate
            sleep_until(due)
            n = self.index + self.count * j
            if self.publish(("P %d" % n).encode(), self.session, j + 1, n % len(self.cluster.ports)):
                self.acked.add(n)
            self.sent = j = j + 1


class PipeFeeder(threading.Thread):
    """Lines "S n" into ssepub's stdin, paced to rate/s."""

    def __init__(self, pipe, rate, stop):
        super().__init__(daemon=True)
        self.pipe, self.rate, self.stop = pipe, rate, stop
        self.sent = 0

    def run(self):
        start = time.monotonic()
        n = 0
        while not self.stop.is_set():
            due = start + n / self.rate
            sleep_until(due)
            # Whatever is due goes in one write: one line per event.
            upto = max(n + 1, int((time.monotonic() - start) * self.rate))
            try:
                self.pipe.write("".join("S %d\n" % k for k in range(n, upto)).encode())
                self.pipe.flush()
            except OSError:
                return
            self.sent = n = upto


class Killer(threading.Thread):
    """SIGKILL a random node every `every` seconds and start it again."""

    def __init__(self, cluster, every, history, stop):
        super().__init__(daemon=True)
        self.cluster, self.every, self.history, self.stop = cluster, every, history, stop
        self.kills = 0
        self.error = None

    def run(self):
        while not self.stop.wait(self.every):
            i = random.randrange(len(self.cluster.nodes))
            p = self.cluster.nodes[i]
            p.kill()
            p.wait()
            self.kills += 1
            try:
                self.cluster.start_node(i, self.history)
            except SetupError as e:
                self.error = str(e)
                return


class Lagger(threading.Thread):
    """Every `every` seconds, stop a random node for `seconds` (SIGSTOP,
    then SIGCONT): it falls behind, loses its subscription, catches up."""

    def __init__(self, cluster, every, seconds, stop):
        super().__init__(daemon=True)
        self.cluster, self.every, self.seconds, self.stop = cluster, every, seconds, stop
        self.lags = 0

    def run(self):
        while self.every and not self.stop.wait(self.every):
            p = self.cluster.nodes[random.randrange(len(self.cluster.nodes))]
            if p.poll() is not None:
                continue
            p.send_signal(signal.SIGSTOP)
            self.lags += 1
            # Its subscription cut while it cannot read (the kernel's
            # buffers would hold what it misses otherwise): the others
            # reconnect at once, it reads the streams back when it resumes.
            self.cluster.redis_command(b"CLIENT KILL TYPE pubsub\r\n")
            self.stop.wait(self.seconds)
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)


def read_results(path):
    subs = []
    with open(path, "rb") as f:
        if f.read(5) != b"SOAK1":
            raise SetupError("%s: not a soak_client results file" % path)
        count, nbytes = struct.unpack("<II", f.read(8))
        for _ in range(count):
            stats = struct.unpack("<7Q", f.read(56))
            seen_p = int.from_bytes(f.read(nbytes), "little")
            seen_s = int.from_bytes(f.read(nbytes), "little")
            subs.append((stats, seen_p, seen_s))
    return subs


def bits_of(numbers):
    v = 0
    for n in numbers:
        v |= 1 << n
    return v


def node_stats(cluster):
    """Holes filled and gaps over the nodes now running (since they started)."""
    import json
    out = []
    for i in range(len(cluster.ports)):
        try:
            c = http.client.HTTPConnection("127.0.0.1", cluster.ports[i], timeout=5)
            c.request("GET", "/_ssed/stats")
            r = json.loads(c.getresponse().read())["redis"]
            out.append("node%d holes=%s filled=%s gaps=%s" % (i, r.get("holes"), r.get("holes_filled_events"),
                                                             r.get("gaps")))
        except (OSError, ValueError, KeyError, http.client.HTTPException):
            out.append("node%d stats unavailable" % i)
    return "; ".join(out)


def settings():
    seconds = env_int("SOAK_SECONDS", 300)
    rate = env_int("SOAK_RATE", 1000)
    max_seq = int(rate / 2.0 * seconds * 1.5) + 10000
    return {"seconds": seconds, "half": rate / 2.0, "rate": rate, "subs": env_int("SOAK_SUBSCRIBERS", 1000),
            "nodes": env_int("SOAK_NODES", 3), "every": env_int("SOAK_KILL_EVERY", 10), "max_seq": max_seq,
            "lag_every": env_int("SOAK_LAG_EVERY", 15), "lag_seconds": env_int("SOAK_LAG_SECONDS", 3),
            "small_history": env_int("SOAK_SMALL_HISTORY", 500),
            "history": 2 * max_seq}  # nothing published in the soak ever leaves the history


def start_subscribers(build, work, procs, cluster, cfg):
    """Build and start soak_client; returns it once every stream has read
    START, so every subscriber is owed every event that follows."""
    client = os.path.join(build, "soak_client")
    cc = os.environ.get("CC", "cc")
    if subprocess.call([cc, "-O2", "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-o", client,
                        os.path.join(TOP, "tests/soak/soak_client.c")]) != 0:
        raise SetupError("cannot build soak_client")
    out = os.path.join(work, "client.out")
    with open(out, "w") as f:
        cp = procs.start([client, "--ports", ",".join(map(str, cluster.ports)), "--conns", str(cfg["subs"]),
                          "--max-seq", str(cfg["max_seq"]), "--out", os.path.join(work, "results.bin"),
                          "--deadline", str(cfg["seconds"] + 600)], stdout=f)
    if not wait_for(out, "^ready", 60):
        raise SetupError("the subscribers did not all connect within 60 s")
    if not PostPublisher(cluster, 1, None).publish(b"START", SESSION_START, 1, 0):
        raise SetupError("START was not accepted")
    if not wait_for(out, "^primed", 60):
        raise SetupError("not every subscriber read START within 60 s")
    return cp


def run_load(build, procs, cluster, cfg):
    """Publish and kill nodes for cfg["seconds"]; returns the threads and ssepub's exit status."""
    sp = procs.start([os.path.join(build, "ssepub"), "-q", "--retry-for", "60s", "--url", cluster.url(0)],
                     stdin=subprocess.PIPE)
    stop = threading.Event()
    load = {"feeder": PipeFeeder(sp.stdin, cfg["half"], stop),
            "killer": Killer(cluster, cfg["every"], cfg["history"], stop),
            "lagger": Lagger(cluster, cfg["lag_every"], cfg["lag_seconds"], stop),
            "posters": [PostPublisher(cluster, cfg["half"] / POST_THREADS, stop, k, POST_THREADS)
                        for k in range(POST_THREADS)]}
    threads = load["posters"] + [load["feeder"], load["killer"], load["lagger"]]
    started = time.monotonic()
    for t in threads:
        t.start()
    stop.wait(cfg["seconds"])
    stop.set()
    for t in threads:
        t.join(60)
    load["elapsed"] = time.monotonic() - started
    sp.stdin.close()
    try:
        load["ssepub"] = sp.wait(timeout=120)
    except subprocess.TimeoutExpired:
        load["ssepub"] = "timeout"
    return load


def report(load, subs, stats_line, end_acked):
    """Print the figures; True when nothing acknowledged was lost or duplicated."""
    posters, feeder, killer, ssepub_ok = load["posters"], load["feeder"], load["killer"], load["ssepub"] == 0
    post_acked = set().union(*(t.acked for t in posters))
    post_sent = sum(t.sent for t in posters)
    acked_p = bits_of(post_acked)
    acked_s = bits_of(range(feeder.sent)) if ssepub_ok else 0
    delivered = [st[0] for st, _, _ in subs]
    total = [sum(st[k] for st, _, _ in subs) for k in range(7)]
    dup, reordered, gaps, reconnects, saw_end, unexpected = total[1:]
    lost_each = [(acked_p & ~p).bit_count() + (acked_s & ~s).bit_count() for _, p, s in subs]
    lost = sum(lost_each)
    # A subscriber told of a gap (ssed-gap) was told it lost events; one
    # that lost any and was never told lost them silently.
    lost_silently = sum(x for x, (st, _, _) in zip(lost_each, subs) if st[3] == 0)
    sent = post_sent + feeder.sent
    if killer.error:
        print("soak: restarting a node failed: %s" % killer.error)
    print("soak: %d lags of %s s" % (load["lagger"].lags, load["lagger"].seconds))
    print("soak: %.0f s, %d kills, achieved %.0f events/s (POST %d, ssepub %d, POST resends %d)"
          % (load["elapsed"], killer.kills, sent / load["elapsed"], post_sent, feeder.sent,
             sum(t.retries for t in posters)))
    print("events sent %d acknowledged %d (ssepub exit %s)"
          % (sent, len(post_acked) + (feeder.sent if ssepub_ok else 0), load["ssepub"]))
    print("delivered per subscriber: min %d median %d max %d (of %d subscribers, %d read END)"
          % (min(delivered), statistics.median(delivered), max(delivered), len(subs), saw_end))
    print("duplicated %d lost %d (acknowledged and not delivered; %d subscribers short) out-of-order %d"
          % (dup, lost, sum(1 for x in lost_each if x), reordered))
    print("lost silently %d (by subscribers never told of a gap), lost after an ssed-gap %d"
          % (lost_silently, lost - lost_silently))
    print("ssed-gap events %d, reconnects %d, unexpected data %d" % (gaps, reconnects, unexpected))
    print("nodes now: %s" % stats_line)
    return lost_silently == 0 and dup == 0 and reordered == 0 and ssepub_ok and end_acked and not killer.error


def soak(build, work, procs):
    cfg = settings()
    cluster = Cluster(build, work, procs, cfg["nodes"], cfg["small_history"])
    cluster.start_redis()
    for i in range(cfg["nodes"]):
        cluster.start_node(i, cfg["history"])
    print("soak: %d nodes on ports %s, Redis on %d, %d s, %d events/s, %d subscribers, SIGKILL every %d s, "
          "SIGSTOP for %d s every %d s, last node --history %d"
          % (cfg["nodes"], ",".join(map(str, cluster.ports)), cluster.redis_port, cfg["seconds"], cfg["rate"],
             cfg["subs"], cfg["every"], cfg["lag_seconds"], cfg["lag_every"], cfg["small_history"]), flush=True)
    cp = start_subscribers(build, work, procs, cluster, cfg)
    load = run_load(build, procs, cluster, cfg)
    # END, once everything before it is published: each subscriber stops when it has read it.
    end_acked = PostPublisher(cluster, 1, None).publish(b"END", SESSION_END, 1, 0)
    try:
        cp.wait(timeout=120 if end_acked else 30)
    except subprocess.TimeoutExpired:
        cp.terminate()
        cp.wait(timeout=30)
    ok = report(load, read_results(os.path.join(work, "results.bin")), node_stats(cluster), end_acked)
    print("soak: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("Usage: cluster_soak.py BUILD_DIR\n")
        return 2
    build = os.path.abspath(sys.argv[1])
    for tool in ("redis-server",):
        if not shutil.which(tool):
            sys.stderr.write("cluster_soak: %s is not installed\n" % tool)
            return 3
    work = tempfile.mkdtemp(prefix="ssetools-soak.")
    procs = Processes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        return soak(build, work, procs)
    except SetupError as e:
        sys.stderr.write("cluster_soak: %s\n" % e)
        return 3
    finally:
        procs.stop_all()
        if os.environ.get("SOAK_KEEP") == "1":
            print("soak: work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
