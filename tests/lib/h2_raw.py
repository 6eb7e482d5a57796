"""An HTTP/2 client made of raw frames, for h2.bats: what curl and nghttp
will not do (break the protocol, flood, stall one stream on purpose).

Usage: h2_raw.py PORT MODE [ARG] [SECONDS]
  preface-only      the preface without SETTINGS, then nothing
  idle              the preface and SETTINGS, then nothing
  garbage-frames    the preface, then bytes that are no frame
  window-overflow   WINDOW_UPDATE that pushes the connection window past 2^31-1
  too-many-streams  open ARG+1 subscriptions without acknowledging SETTINGS
  rapid-reset       open and reset ARG streams as fast as possible
  provoked-reset    open ARG streams whose :path breaks the rules, so that
                    the server resets each ("MadeYouReset")
  continuation-flood HEADERS without END_HEADERS, then ARG empty CONTINUATIONs
  slow-stream       two subscriptions to / on one connection: stream 1's
                    window is never given back, stream 3's always; reads
                    until stream 1 is reset and stream 3 has ARG events
  many-streams      20 subscriptions to / on one connection, with windows
                    and a receive buffer larger than any burst; prints
                    READY once all are answered and DONE once each has ARG
                    events
  late-stream       a subscription to / whose window stays shut; prints READY
                    once it is answered, and on SIGUSR1 opens stream 3 (GET /):
                    what the server does with it is reported (RST_STREAM)
  many-stalled      ARG subscriptions to / whose windows stay shut, and
                    stream 1 whose window is wide open; prints READY once
                    all are answered and "STREAM1 N" each time stream 1
                    has N = 25, 50, ... events; reads until it has 125
  open-bodies       ARG POSTs to /nope whose bodies never end, then a PING:
                    prints READY once the PING is answered (the server has
                    read the requests)
  paced             one subscription to H2_PATH (default /) whose window is
                    16 KiB and given back only for bytes read, one frame
                    at a time, so the server always owes it some; prints
                    READY when answered and DONE once it has ARG events,
                    and keeps the stream open
  large-events      four subscriptions to / with the default 64 KiB stream
                    windows: stream 1's is never given back (it stops
                    reading), streams 3, 5 and 7 give back each frame as it
                    comes; each DATA payload is appended to H2_OUT/stream-N;
                    prints READY once all four are answered and DONE once
                    streams 3, 5 and 7 each have ARG events
  stalled-conns     ARG connections of H2_STREAMS (default 100)
                    subscriptions to / each, with initial windows of
                    H2_WINDOW bytes (default 0) and the connections' windows
                    wide open; prints READY once all are answered, then
                    reads nothing more when H2_READ is 0, and holds them
                    open until killed or SECONDS pass ("CLOSED" if the
                    server closed them all)
  request           one request whose :method, :path and one more header
                    come from H2_METHOD, H2_PATH (default /), H2_HEADER
                    ("name: value"), each with Python's backslash escapes
                    (\\x00, \\r\\n), so they may hold any byte; prints
                    "STATUS N" and the body's lines as "BODY line"
  bad-preface       H2_PREFACE (Python's backslash escapes; default h2spec's
                    "INVALID CONNECTION PREFACE\\r\\n\\r\\n") instead of the preface
  lower-stream      a request on stream 5, then one on stream 3, which the
                    client skipped (h2spec http2/5.1.1/2)
  skipped-streams   requests on streams 1, 5 and 7 (3 skipped and never
                    used): prints "STATUS stream=N CODE" for each answer,
                    and DONE once all three came
With H2_TLS=1 it speaks TLS, agreeing on h2 by ALPN (the certificate is not
checked).
Prints what came back, one line each ("SETTINGS" for the server's,
"GOAWAY code=N", "RST_STREAM stream=N code=N", "EVENTS stream=N count=N",
"READY", "CLOSED") and exits when the connection closes or SECONDS
(default 10) pass."""
import os
import signal
import socket
import ssl
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1

port, mode = int(sys.argv[1]), sys.argv[2]
arg = int(sys.argv[3]) if len(sys.argv) > 3 else 0
limit = float(sys.argv[4]) if len(sys.argv) > 4 else 10.0


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def length(n, prefix_bits=7, first=0):
    """An HPACK integer with a prefix of prefix_bits bits."""
    top = (1 << prefix_bits) - 1
    if n < top:
        return bytes([first | n])
    out, n = [first | top], n - top
    while n >= 128:
        out.append(n % 128 + 128)
        n //= 128
    return bytes(out + [n])


def literal(name, value):
    """An HPACK literal header field without indexing, no Huffman."""
    return b"\x00" + length(len(name)) + name + length(len(value)) + value


def request(path, method=b"GET"):
    return (literal(b":method", method) + literal(b":scheme", b"http") + literal(b":path", path) +
            literal(b":authority", b"127.0.0.1:%d" % port))


def escaped(name, default=b""):
    value = os.environ.get(name)
    return default if value is None else value.encode("latin-1").decode("unicode_escape").encode("latin-1")


# What :status may look like in ssed's first HEADERS: an index into the
# static table, or a literal naming it, its digits raw or Huffman-coded.
STATIC_STATUS = {8: "200", 9: "204", 10: "206", 11: "304", 12: "400", 13: "404", 14: "500"}
HUFFMAN_DIGITS = {"00000": "0", "00001": "1", "00010": "2", "011001": "3", "011010": "4", "011011": "5",
                  "011100": "6", "011101": "7", "011110": "8", "011111": "9"}


def status_of(block):
    if block[0] & 0x80:
        return STATIC_STATUS.get(block[0] & 0x7F, "?")
    if STATIC_STATUS.get(block[0] & (0x3F if block[0] & 0x40 else 0x0F)) is None:
        return "?"
    n, raw = block[1] & 0x7F, block[2:2 + (block[1] & 0x7F)]
    if not block[1] & 0x80:
        return raw.decode("latin-1")
    out, code = "", ""
    for bit in "".join(f"{b:08b}" for b in raw):
        code += bit
        if code in HUFFMAN_DIGITS:
            out, code = out + HUFFMAN_DIGITS[code], ""
    return out


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def stalled_conns():
    """Many connections, each with many streams whose windows stay as
    opened: the memory the server holds for them is the test's concern."""
    import select
    streams = int(os.environ.get("H2_STREAMS", "100"))
    window = int(os.environ.get("H2_WINDOW", "0"))
    reading = os.environ.get("H2_READ", "1") != "0"
    conns = []
    for _ in range(arg):
        s = socket.socket()
        if not reading:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(PREFACE + settings((4, window)) + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)) +
                  b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, request(b"/")) for i in range(streams)))
        conns.append([s, b"", 0])
    start, ready, open_conns = time.monotonic(), False, len(conns)
    while time.monotonic() - start < limit and open_conns:
        if ready and not reading:
            time.sleep(0.05)
            continue
        live = [c for c in conns if c[0]]
        readable, _, _ = select.select([c[0] for c in live], [], [], 0.05)
        for c in live:
            if c[0] not in readable:
                continue
            chunk = c[0].recv(65536)
            if not chunk:
                c[0].close()
                c[0] = None
                open_conns -= 1
                continue
            c[1] += chunk
            while len(c[1]) >= 9 and len(c[1]) >= 9 + int.from_bytes(c[1][:3], "big"):
                n = int.from_bytes(c[1][:3], "big")
                kind, flags = c[1][3], c[1][4]
                c[1] = c[1][9 + n:]
                if kind == HEADERS:
                    c[2] += 1
                elif kind == SETTINGS and not flags & ACK:
                    c[0].sendall(frame(SETTINGS, ACK, 0))
        if not ready and all(c[2] >= streams for c in conns):
            ready = True
            print("READY", flush=True)
    print("CLOSED" if not open_conns else f"TIMEOUT after {limit}s", flush=True)
    sys.exit(0)


if mode == "stalled-conns":
    stalled_conns()

sock = socket.socket()
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # WINDOW_UPDATEs go at once
if mode == "many-streams":
    # Set before connecting, so the window is offered from the start: the
    # server's writes then never wait for this reader.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
sock.settimeout(limit)
sock.connect(("127.0.0.1", port))
if os.environ.get("H2_TLS") == "1":
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    tls.set_alpn_protocols(["h2"])
    sock = tls.wrap_socket(sock)
start = time.monotonic()
pending = b""
events, tails = {}, {}


def send(data):
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def frames():
    """Frames from the server until it closes or time runs out."""
    global pending
    while time.monotonic() - start < limit:
        while len(pending) >= 9:
            length = int.from_bytes(pending[:3], "big")
            if len(pending) < 9 + length:
                break
            kind, flags = pending[3], pending[4]
            stream = int.from_bytes(pending[5:9], "big") & 0x7FFFFFFF
            payload = pending[9:9 + length]
            pending = pending[9 + length:]
            yield kind, flags, stream, payload
        try:
            sock.settimeout(max(0.05, limit - (time.monotonic() - start)))
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, ssl.SSLEOFError):
            chunk = b""
        if not chunk:
            print("CLOSED")
            return
        pending += chunk
    print(f"TIMEOUT after {limit}s")


def report(kind, flags, stream, payload):
    if kind == GOAWAY:
        print(f"GOAWAY code={int.from_bytes(payload[4:8], 'big')}")
    elif kind == RST_STREAM:
        print(f"RST_STREAM stream={stream} code={int.from_bytes(payload[:4], 'big')}")
    elif kind == SETTINGS and not flags & ACK:
        print("SETTINGS")
        send(frame(SETTINGS, ACK, 0)) if mode != "too-many-streams" else None
    elif kind == HEADERS and mode == "request":
        print(f"STATUS {status_of(payload)}")
    elif kind == HEADERS and mode in ("lower-stream", "skipped-streams"):
        print(f"STATUS stream={stream} {status_of(payload)}")
    elif kind == DATA and mode == "request":
        for line in payload.decode("latin-1").splitlines():
            print(f"BODY {line}")
    elif kind == DATA:
        # An event's "\ndata:" may straddle two frames: the last bytes of
        # the previous one are counted with this one.
        seen = tails.get(stream, b"\n")
        events[stream] = events.get(stream, 0) + (seen[-5:] + payload).count(b"\ndata:")
        tails[stream] = payload[-5:] if len(payload) >= 5 else seen[-5:] + payload
    sys.stdout.flush()


if mode == "bad-preface":
    send(escaped("H2_PREFACE", b"INVALID CONNECTION PREFACE\r\n\r\n"))
else:
    send(PREFACE + (b"" if mode == "preface-only" else settings()))
if mode == "garbage-frames":
    send(b"\xff" * 64)
elif mode == "window-overflow":
    send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF)))
elif mode == "too-many-streams":
    send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, request(b"/news")) for i in range(arg + 1)))
elif mode == "rapid-reset":
    for i in range(arg):
        send(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, request(b"/news")) +
             frame(RST_STREAM, 0, 1 + 2 * i, struct.pack(">I", 8)))
elif mode == "provoked-reset":
    # In one write, so the server reads many at once: past its stream
    # limit nghttp2 refuses them itself, and those resets count too.
    send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, request(b"no-slash")) for i in range(arg)))
elif mode == "continuation-flood":
    send(frame(HEADERS, END_STREAM, 1, request(b"/news")) + frame(CONTINUATION, 0, 1) * arg)
elif mode == "request":
    name, _, value = escaped("H2_HEADER").partition(b": ")
    send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request(escaped("H2_PATH", b"/"), escaped("H2_METHOD", b"GET")) +
               (literal(name, value) if name else b"")))
elif mode == "slow-stream":
    # Small stream windows, a large connection window: only stream 3's is
    # given back, so stream 1 stalls while the connection flows.
    send(settings((4, 4096)) + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)))
    send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request(b"/")) +
         frame(HEADERS, END_HEADERS | END_STREAM, 3, request(b"/")))
elif mode == "many-stalled":
    send(settings((4, 0)) + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)))
    send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request(b"/")) + frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", 1 << 30)))
    send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 3 + 2 * i, request(b"/")) for i in range(arg)))
elif mode == "open-bodies":
    send(b"".join(frame(HEADERS, END_HEADERS, 1 + 2 * i, request(b"/nope", b"POST")) for i in range(arg)) +
         frame(PING, 0, 0, b"bodies!!"))
elif mode == "paced":
    send(settings((4, 16384)) + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)))
    send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request(escaped("H2_PATH", b"/"))))
elif mode == "lower-stream":
    send(frame(HEADERS, END_HEADERS | END_STREAM, 5, request(b"/_ssed/health")))
    send(frame(HEADERS, END_HEADERS | END_STREAM, 3, request(b"/_ssed/health")))
elif mode == "skipped-streams":
    send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, i, request(b"/_ssed/health")) for i in (1, 5, 7)))
elif mode == "late-stream":
    send(settings((4, 0)))
    send(frame(HEADERS, END_HEADERS | END_STREAM, 1, request(b"/")))
    signal.signal(signal.SIGUSR1, lambda *_: send(frame(HEADERS, END_HEADERS | END_STREAM, 3, request(b"/"))))
elif mode == "large-events":
    send(settings() + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)))
    send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, request(b"/")) for i in range(4)))
elif mode == "many-streams":
    send(settings((4, 1 << 24)) + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 30)))
    send(b"".join(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, request(b"/")) for i in range(20)))

ready, reported, done = set(), 0, False
for kind, flags, stream, payload in frames():
    report(kind, flags, stream, payload)
    if mode == "many-streams":
        if kind == HEADERS:
            ready.add(stream)
            if len(ready) == 20:
                print("READY", flush=True)
        if len(events) == 20 and min(events.values()) >= arg:
            print("DONE", flush=True)
            break
    if mode == "large-events":
        if kind == HEADERS:
            ready.add(stream)
            if len(ready) == 4:
                print("READY", flush=True)
        if kind == DATA and payload:
            with open(os.path.join(os.environ["H2_OUT"], f"stream-{stream}"), "ab") as out:
                out.write(payload)
            if stream != 1:
                send(frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", len(payload))))
        if not done and all(events.get(k, 0) >= arg for k in (3, 5, 7)):
            done = True  # stream 1 stays stalled, holding what it is owed
            print("DONE", flush=True)
    if mode == "paced":
        if kind == HEADERS:
            print("READY", flush=True)
        if kind == DATA and payload:
            # Only what this frame carried: the server always has the rest
            # of its window's worth out, and its buffer never runs dry.
            send(frame(WINDOW_UPDATE, 0, 1, struct.pack(">I", len(payload))))
        if events.get(1, 0) >= arg and not done:
            done = True  # the stream stays open: its memory is measured now
            print("DONE", flush=True)
    if mode == "late-stream" and kind == HEADERS and stream == 1:
        print("READY", flush=True)
    if mode == "open-bodies" and kind == PING and flags & ACK:
        print("READY", flush=True)
    if mode == "skipped-streams" and kind == HEADERS:
        ready.add(stream)
        if len(ready) == 3:
            print("DONE", flush=True)
            break
    if mode == "many-stalled":
        if kind == HEADERS:
            ready.add(stream)
            if len(ready) == arg + 1:
                print("READY", flush=True)
        while events.get(1, 0) >= reported + 25:
            reported += 25
            print(f"STREAM1 {reported}", flush=True)
        if events.get(1, 0) >= 125:
            break
    if mode != "slow-stream":
        continue
    if kind == HEADERS and stream in (1, 3):
        ready.add(stream)
        if len(ready) == 2:
            print("READY", flush=True)
    if kind == DATA and stream == 3 and payload:
        send(frame(WINDOW_UPDATE, 0, 3, struct.pack(">I", len(payload))))
    if events.get(3, 0) >= arg:
        break
for stream in sorted(events):
    print(f"EVENTS stream={stream} count={events[stream]}")
