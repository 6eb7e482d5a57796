#!/usr/bin/env python3
"""A scripted HTTP server for ssecat's tests.

Each connection gets the next response of the script (the last one repeats),
so a test can say "first a stream that drops, then a 404". Every request is
logged as one JSON line (method, path, headers with lower-cased names, body)
so tests can check Last-Event-ID, custom headers and POST bodies.

Usage: sse_test_server.py --port-file FILE --log FILE [--tls-cert PEM --tls-key PEM] SCRIPT.json

SCRIPT.json is a list of responses, each an object with:
  status   (default 200)        reason   (default from the status)
  headers  (default {"Content-Type": "text/event-stream"})
  chunks   a list of strings written one by one (each flushed), or of
           {"sleep": SECONDS}, or of {"repeat": STRING, "times": N} (STRING
           N times over, for large payloads without a large script), or of
           {"gzip_bomb": STRING, "mib": N} (STRING repeated to N MiB,
           gzip-compressed about 1000:1, written as it is made; the gzip
           stream is left unfinished, as a bomb's sender need not finish it;
           send "Content-Encoding: gzip" in headers), or of {"gzip": STRING}
           (STRING as one whole gzip stream; with "Content-Encoding: gzip")
  encoding "utf-8" (default) or "latin-1", to send any byte (\\u00ff is 0xFF)
  hold     seconds to keep the connection open after the chunks (default 0)

It listens on 127.0.0.1 only, on a port the kernel picks, written to the
port file once the server accepts connections; with --tls-cert and --tls-key
it speaks HTTPS. It stops on SIGTERM.
"""
import argparse
import gzip
import http.server
import json
import os
import ssl
import threading
import time
import zlib

MAX_HOLD_SECONDS = 30  # every test bounds its own run; this bounds ours
MAX_BOMB_MIB = 1 << 16


def gzip_bomb(text, mib):
    """The compressed bytes of `text` repeated to `mib` MiB, one MiB at a
    time: after a full flush deflate starts afresh, so each MiB after the
    first compresses to the same bytes and is made once."""
    block = (text * (1 + (1 << 20) // max(len(text), 1))).encode("utf-8")[: 1 << 20]
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    for _ in range(min(int(mib), MAX_BOMB_MIB) - 1):
        yield again


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("script")
    args = ap.parse_args()
    with open(args.script, encoding="utf-8") as f:
        script = json.load(f)
    lock = threading.Lock()
    counter = {"n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                index = min(counter["n"], len(script) - 1)
                counter["n"] += 1
                with open(args.log, "a", encoding="utf-8") as log:
                    log.write(json.dumps({
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body.decode("utf-8", "replace"),
                    }) + "\n")
            self.respond(script[index])

        def respond(self, r):
            status = r.get("status", 200)
            reason = r.get("reason", http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else "")
            headers = r.get("headers", {"Content-Type": "text/event-stream"})
            encoding = r.get("encoding", "utf-8")
            head = f"HTTP/1.1 {status} {reason}\r\n"
            for k, v in headers.items():
                head += f"{k}: {v}\r\n"
            head += "Connection: close\r\n\r\n"
            self.close_connection = True
            try:
                self.wfile.write(head.encode("latin-1"))
                self.wfile.flush()
                for c in r.get("chunks", []):
                    if isinstance(c, dict) and "gzip_bomb" in c:
                        for piece in gzip_bomb(c["gzip_bomb"], c.get("mib", 1)):
                            self.wfile.write(piece)
                        self.wfile.flush()
                        continue
                    if isinstance(c, dict) and "gzip" in c:
                        self.wfile.write(gzip.compress(c["gzip"].encode(encoding)))
                        self.wfile.flush()
                        continue
                    if isinstance(c, dict) and "repeat" in c:
                        self.wfile.write((c["repeat"] * int(c.get("times", 1))).encode(encoding))
                        self.wfile.flush()
                        continue
                    if isinstance(c, dict):
                        time.sleep(min(float(c.get("sleep", 0)), MAX_HOLD_SECONDS))
                        continue
                    self.wfile.write(c.encode(encoding))
                    self.wfile.flush()
                time.sleep(min(float(r.get("hold", 0)), MAX_HOLD_SECONDS))
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake happens in the handler's thread, so a client that
        # refuses the certificate does not hold up the next one.
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
