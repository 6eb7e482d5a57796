#!/usr/bin/env python3
"""POST a chunked body in two parts with a pause between them, to show that
events arrive before the body ends. Usage: chunked_post.py PORT PATH
FIRST_FILE_MARKER; writes 'first-sent' to the marker file after the first
part, waits until the file 'continue' appears next to it (or 10 s), then
sends the rest and prints the reply."""
import os
import socket
import sys
import time

port, path, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(
    f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
)
first = b"part one\n"
s.sendall(b"%x\r\n%s\r\n" % (len(first), first))
with open(marker, "w") as f:
    f.write("first-sent\n")
go = os.path.join(os.path.dirname(marker), "continue")
deadline = time.time() + 10
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.05)
rest = b"part two\npart three\n"
s.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(rest), rest))
reply = b""
while b"\r\n\r\n" not in reply or not reply.endswith(b"}\n"):
    data = s.recv(4096)
    if not data:
        break
    reply += data
sys.stdout.write(reply.decode())
