"""A TLS publisher that stops in the middle of a record, for tls.bats.

Usage: tls_stall_body.py PORT SECONDS
Does the handshake, sends the head of a chunked POST and one chunk, then
half of the next TLS record, prints "stalled" and holds the connection for
SECONDS (the server can read nothing until the rest of the record comes)."""
import socket
import ssl
import sys
import time

port, hold = int(sys.argv[1]), float(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
sock = socket.create_connection(("127.0.0.1", port), timeout=10)
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")


def pump_out():
    data = outgoing.read()
    if data:
        sock.sendall(data)


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        pump_out()
        incoming.write(sock.recv(65536))
pump_out()
tls.write(b"POST /stall HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n")
pump_out()
tls.write(b"7\r\nsecond\n\r\n")
record = outgoing.read()
sock.sendall(record[: len(record) // 2])
print("stalled", flush=True)
time.sleep(hold)
