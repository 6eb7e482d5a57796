"""How a TLS event stream ends, for tls.bats.

Usage: tls_stream_end.py PORT SECONDS
Subscribes to / over TLS, prints "streaming" once the response head is in,
then reads until the stream ends, prints "last chunk" when its chunked body
ended with the last chunk, and "close_notify" when the server
ended TLS properly or "cut" when the connection just closed."""
import socket
import ssl
import sys

sys.path.insert(0, __import__('os').path.dirname(__file__))
from chunked_body import Body, split_head  # noqa: E402

port, limit = int(sys.argv[1]), float(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
raw = socket.create_connection(("127.0.0.1", port), timeout=limit)
s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
got = b""
while b"\r\n\r\n" not in got:
    got += s.recv(4096)
head, raw = split_head(got)
body = Body(head)
body.feed(raw)
print("streaming", flush=True)
try:
    while True:
        raw = s.recv(4096)
        if not raw:
            break
        body.feed(raw)
    if body.ended and not body.error:
        print("last chunk", flush=True)
    print("close_notify", flush=True)
except (ssl.SSLEOFError, ConnectionResetError):
    print("cut", flush=True)
