#!/usr/bin/env python3
"""Send raw bytes to a server and print what comes back, for requests no
well-behaved client would send. Usage: http_raw.py PORT [--hold SECONDS]
[--trickle SECONDS] < request-bytes. Prints the response (or nothing) and
exits when the server closes or after 5 s."""
import socket
import sys
import time

port = int(sys.argv[1])
hold = 0.0
trickle = 0.0
if "--hold" in sys.argv:
    hold = float(sys.argv[sys.argv.index("--hold") + 1])
if "--trickle" in sys.argv:
    trickle = float(sys.argv[sys.argv.index("--trickle") + 1])
payload = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", port), timeout=5)
if trickle:
    for b in payload:
        try:
            s.send(bytes([b]))
        except OSError:
            break
        time.sleep(trickle)
else:
    s.sendall(payload)
time.sleep(hold)
chunks = []
deadline = time.time() + 5
try:
    while time.time() < deadline:
        data = s.recv(65536)
        if not data:
            break
        chunks.append(data)
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.buffer.write(b"".join(chunks))
