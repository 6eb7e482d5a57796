"""What a hostile or broken client does to a TLS port, for tls.bats.

Usage: tls_hostile.py PORT MODE [SECONDS]
  plaintext  send a plain HTTP request, as if the port spoke HTTP
  garbage    send a TLS record header followed by bytes that are no ClientHello
  stall      send the first bytes of a ClientHello and nothing more
Then wait (up to SECONDS, default 10) for the server to close the
connection. Prints "closed after N.Ns, M bytes received" and exits 0 when it
did, 1 when it did not."""
import socket
import sys
import time

port, mode = int(sys.argv[1]), sys.argv[2]
limit = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
sends = {
    "plaintext": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
    "garbage": b"\x16\x03\x01\x00\x40" + bytes(range(1, 65)),
    # A handshake record that promises 512 bytes and brings 11.
    "stall": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
}
s = socket.create_connection(("127.0.0.1", port), timeout=limit)
s.sendall(sends[mode])
start = time.monotonic()
received = 0
try:
    while time.monotonic() - start < limit:
        chunk = s.recv(4096)
        if not chunk:
            break
        received += len(chunk)
    else:
        print(f"still open after {limit}s")
        sys.exit(1)
except ConnectionResetError:
    pass
except socket.timeout:
    print(f"still open after {limit}s")
    sys.exit(1)
print(f"closed after {time.monotonic() - start:.1f}s, {received} bytes received")
