"""A TLS subscriber that reads slowly, so ssed's TLS writes stop short and
are repeated: it reads a little at a time from a small receive buffer until
it has COUNT data lines, then checks they are "0", "1", ... in order, each
followed by the padding the publisher gave it. The body must be chunked
(HTTP/1.1), and its framing valid byte for byte (chunked_body.py): the
chunks ssed wrote stopped short too.

Usage: tls_slow_reader.py PORT COUNT [SECONDS]; prints "ok N events" or
what went wrong (exit 1)."""
import socket
import ssl
import sys
import time

sys.path.insert(0, __import__('os').path.dirname(__file__))
from chunked_body import Body, split_head  # noqa: E402

port, count = int(sys.argv[1]), int(sys.argv[2])
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 60.0
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.settimeout(limit)
raw.connect(("127.0.0.1", port))
s = ctx.wrap_socket(raw)
s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
pending = b""
head, raw, body = None, b"", None
lines = []
closed = False
start = time.monotonic()
while len(lines) < count and time.monotonic() - start < limit:
    chunk = s.recv(2048)
    if not chunk:
        closed = True
        break
    if body is None:
        head, raw = split_head(raw + chunk)
        if head is None:
            continue
        body, chunk = Body(head), raw
    chunk = body.feed(chunk)
    if body.error:
        print(f"bad chunked framing: {body.error}")
        sys.exit(1)
    # Only complete lines count; the last piece waits for its end.
    *done, pending = (pending + chunk).split(b"\n")
    lines += [l[6:] for l in done if l.startswith(b"data: ")]
    time.sleep(0.002)
if len(lines) < count:
    print(f"only {len(lines)} of {count} events after {time.monotonic() - start:.1f}s"
          + (" (ssed closed the connection)" if closed else ""))
    sys.exit(1)
if not body.chunked:
    print("the stream is not chunked")
    sys.exit(1)
for i, line in enumerate(lines[:count]):
    number, _, pad = line.partition(b" ")
    if number != str(i).encode() or pad != b"y" * 1000:
        print(f"event {i} is wrong: {line[:40]!r}...")
        sys.exit(1)
print(f"ok {count} events")
