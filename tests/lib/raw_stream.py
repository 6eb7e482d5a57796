"""A raw-socket subscriber for chunked.bats: how ssed frames an event stream.
Usage: raw_stream.py PORT PATH [--http10] [--rcvbuf BYTES] [--read BYTES]
                     [--header 'Name: value'] [--seconds N] [--raw FILE]
Sends a GET for PATH (HTTP/1.1, or HTTP/1.0), prints "status <line>", then
"framing chunked" or "framing close" (Transfer-Encoding, and no
Content-Length), "streaming", then each line of the decoded body as it
arrives ("line <text>"), and at the end of the connection "end last-chunk"
(a chunked body ended by 0\\r\\n\\r\\n), "end no-last-chunk" or "end close"
(close-delimited), or "end bad <why>" when the chunked framing is not
valid byte for byte. --rcvbuf and --read make a slow reader (a small
receive buffer, a few bytes per read), so ssed's writes stop short; --raw
keeps the bytes as they came; --data FILE writes the data lines there
instead, and prints "data N" after every 100th."""
import argparse
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
from chunked_body import Body, split_head  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("path")
ap.add_argument("--http10", action="store_true")
ap.add_argument("--rcvbuf", type=int)
ap.add_argument("--read", type=int, default=65536)
ap.add_argument("--header", action="append", default=[])
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--raw")
ap.add_argument("--data")
a = ap.parse_args()

s = socket.socket()
if a.rcvbuf:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
s.settimeout(a.seconds)
s.connect(("127.0.0.1", a.port))
extra = "".join(h + "\r\n" for h in a.header)
version = "1.0" if a.http10 else "1.1"
s.sendall(f"GET {a.path} HTTP/{version}\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{extra}\r\n".encode())
raw_out = open(a.raw, "wb") if a.raw else None

got = b""
head = None
while head is None:
    more = s.recv(4096)
    if not more:
        print("end closed before the head", flush=True)
        sys.exit(1)
    got += more
    head, rest = split_head(got)
if raw_out:
    raw_out.write(got)
print("status " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
body = Body(head)
fields = head.lower()
print("framing chunked" if body.chunked else
      "framing close" if b"content-length" not in fields else "framing length")
print("streaming", flush=True)

pending = b""
data_out = open(a.data, "w") if a.data else None
data_count = 0


def take(decoded):
    global pending, data_count
    *lines, pending = (pending + decoded).split(b"\n")
    for line in lines:
        if data_out and line.startswith(b"data: "):
            data_out.write(line[6:].decode(errors="replace") + "\n")
            data_count += 1
            if data_count % 100 == 0:
                data_out.flush()
                print(f"data {data_count}")
            continue
        print("line " + line.decode(errors="replace"))
    sys.stdout.flush()


take(body.feed(rest))
try:
    while not body.error:
        more = s.recv(a.read)
        if not more:
            break
        if raw_out:
            raw_out.write(more)
        take(body.feed(more))
except ConnectionResetError:
    print("end reset", flush=True)
    sys.exit(1)
if body.error:
    print("end bad " + body.error, flush=True)
elif body.chunked:
    print("end last-chunk" if body.ended else "end no-last-chunk", flush=True)
else:
    print("end close", flush=True)
