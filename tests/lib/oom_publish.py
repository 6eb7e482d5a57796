#!/usr/bin/env python3
"""Publish large bodies to ssed, one request per connection, until it has
refused enough of them: for tests that run ssed with little memory.
Usage: oom_publish.py PORT KIND SIZE [--refusals N] [--max COUNT]
[--seconds S] [--secret FILE] [--channels N]
KIND: json, octet, sse, lines, form, or json-chunked (Transfer-Encoding: chunked).
--secret FILE: each request carries its own HS256 token (a fresh jti and a
4 KB claim, so the token cache never answers for it and its parse needs
memory too), with publish rights to every channel.
Stops after N answers of 503 (default 3), COUNT requests (default 400) or S
seconds (default 60), and prints one line of counts:
  200=A 503=B other=C dropped=D
where dropped counts requests that got no HTTP answer at all (the
connection closed or reset without one: ssed crashed or gave up); then,
for each answer other than 200, one line per reason ssed gave:
  503 N: REASON"""
import base64
import hashlib
import hmac
import json
import socket
import sys
import time


def option(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


port = int(sys.argv[1])
kind = sys.argv[2]
size = int(sys.argv[3])
refusals_wanted = int(option("--refusals", "3"))
max_requests = int(option("--max", "400"))
deadline = time.time() + float(option("--seconds", "60"))
secret_file = option("--secret", None)
channels = int(option("--channels", "8"))


def body_of(kind, size):
    if kind.startswith("json"):
        # one long string: jansson's token buffer grows with it
        return b'{"v":"' + b"x" * (size - 9) + b'"}'
    if kind == "octet":
        return b"o" * size
    if kind == "sse":
        return b"data: " + b"s" * (size - 8) + b"\n\n"
    if kind in ("lines", "form"):
        return b"l" * (size - 1) + b"\n"
    raise SystemExit("unknown kind " + kind)


CONTENT_TYPES = {"json": "application/json", "json-chunked": "application/json",
                 "octet": "application/octet-stream", "sse": "text/event-stream", "lines": "text/plain",
                 "form": "application/x-www-form-urlencoded"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def token(secret, n):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"jti": "oom-%d-%f" % (n, time.time()), "pad": "p" * 4000, "ssed": {"publish": ["**"]}}
    payload = b64url(json.dumps(claims).encode())
    signed = header + b"." + payload
    return signed + b"." + b64url(hmac.new(secret, signed, hashlib.sha256).digest())


def request(n, body, secret):
    head = "POST /oom-%s-%d HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n" % (
        kind, n % channels, CONTENT_TYPES[kind])
    if secret is not None:
        head += "Authorization: Bearer %s\r\n" % token(secret, n).decode()
    if kind.endswith("chunked"):
        head += "Transfer-Encoding: chunked\r\n\r\n"
        step = 65536
        chunks = [b"%x\r\n%s\r\n" % (len(body[i:i + step]), body[i:i + step]) for i in range(0, len(body), step)]
        return head.encode() + b"".join(chunks) + b"0\r\n\r\n"
    head += "Content-Length: %d\r\n\r\n" % len(body)
    return head.encode() + body


def answer_of(data):
    """The status and the whole answer, or (None, b"") when there was none."""
    if not data.startswith(b"HTTP/1.1 "):
        return None, data
    return int(data[9:12]), data


def reason_of(data):
    """What an answer says went wrong: its JSON error or its text."""
    body = data.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace").strip()
    try:
        return json.loads(body).get("error", body)
    except ValueError:
        return body


def publish_once(n, body, secret):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        try:
            s.sendall(request(n, body, secret))
        except OSError:
            pass  # refused mid-body: the answer may still be there to read
        received = []
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                received.append(data)
                got = b"".join(received)
                end = got.find(b"\r\n\r\n")
                if end >= 0:
                    length = [l for l in got[:end].split(b"\r\n") if l.lower().startswith(b"content-length:")]
                    if length and len(got) >= end + 4 + int(length[0].split(b":")[1]):
                        break
        except OSError:
            pass
        return answer_of(b"".join(received))
    finally:
        s.close()


secret = None
if secret_file:
    with open(secret_file, "rb") as f:
        secret = f.read().rstrip(b"\n")
body = body_of(kind, size)
counts = {"200": 0, "503": 0, "other": 0, "dropped": 0}
reasons = {}
n = 0
while n < max_requests and counts["503"] < refusals_wanted and time.time() < deadline:
    status, data = publish_once(n, body, secret)
    n += 1
    label = "dropped" if status is None else str(status) if status in (200, 503) else "other"
    counts[label] += 1
    if label != "200":
        key = "%s: %s" % (status, reason_of(data)[:300]) if status else "dropped: no answer"
        reasons[key] = reasons.get(key, 0) + 1
    if label == "dropped":
        break  # ssed is likely gone: the test looks
print(" ".join("%s=%d" % (k, v) for k, v in counts.items()))
for key, count in reasons.items():
    status, reason = key.split(": ", 1)
    print("%s %d: %s" % (status, count, reason))
