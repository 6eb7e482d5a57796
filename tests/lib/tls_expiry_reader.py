"""A TLS subscriber that stops reading while ssed still has a record to
write, then reads to the end, for tls.bats: its stream must end cleanly
even though it ended (token expiry) while a TLS write was pending.

Usage: tls_expiry_reader.py PORT PATH TOKEN GO_FILE SECONDS
Connects with a 4 KiB receive buffer, asks for PATH with the bearer TOKEN,
prints "streaming" once a 200 response head is in (else "refused"), reads nothing more until
GO_FILE exists, then reads until the stream ends. Prints what it saw:
"records ok" (every TLS record decrypted) or "bad record: ...", then
"notice" when the stream's last bytes are ": token expired", then
"events N whole" (N data lines, all complete and of the published
length) or "event cut", then "last chunk" when the chunked body ended with its last
chunk (and its framing was valid throughout), then "close_notify" when ssed ended TLS properly
or "cut" when the connection just closed."""
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from chunked_body import Body, split_head  # noqa: E402

port, path, token, go_file, limit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.settimeout(limit)
raw.connect(("127.0.0.1", int(port)))
s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
got = b""
while b"\r\n\r\n" not in got:
    chunk = s.recv(4096)
    if not chunk:
        print("closed before the response head", flush=True)
        sys.exit(1)
    got += chunk
if not got.startswith(b"HTTP/1.1 200"):
    print("refused: " + got.split(b"\r\n", 1)[0].decode(errors="replace"), flush=True)
    sys.exit(1)
print("streaming", flush=True)
deadline = time.monotonic() + limit
while not os.path.exists(go_file):
    if time.monotonic() > deadline:
        print(f"no {go_file} after {limit}s", flush=True)
        sys.exit(1)
    time.sleep(0.05)
end = "cut"
try:
    while time.monotonic() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            end = "close_notify"
            break
        got += chunk
    print("records ok")
except (ssl.SSLEOFError, ConnectionResetError):
    print("records ok")
except ssl.SSLError as e:
    print(f"bad record: {e}")
head, raw = split_head(got)
decoded = Body(head)
decoded.feed(raw)
body = bytes(decoded.data)
print("notice" if body.endswith(b": token expired\n\n") else f"no notice (ends {body[-40:]!r})")
data = [l for l in body.split(b"\n") if l.startswith(b"data:")]
whole = all(l == b"data: " + b"x" * 1000 for l in data) and not body.rstrip(b"\n").endswith(b"x")
print(f"events {len(data)} whole" if whole else "event cut")
if decoded.error:
    print(f"bad chunked framing: {decoded.error}")
elif decoded.ended:
    print("last chunk")
else:
    print("no last chunk" if decoded.chunked else "not chunked")
print(end, flush=True)
