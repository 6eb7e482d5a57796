"""Python requests reading an event stream the way most Python code does:
requests.get(stream=True) and iter_lines() with its defaults (which reads
512-byte blocks of a close-delimited body, and each chunk of a chunked one
as it comes). For chunked.bats.
Usage: requests_lines.py URL SECONDS
Prints "streaming" once the response head is in, then "data <text> <ms>"
for each data line as iter_lines() yields it, where ms is how long after
the publish it came when the text starts with the publish time in
milliseconds since the epoch ("<ms> ..."), and "transfer-encoding <value>"
first."""
import sys
import time

import requests

url, limit = sys.argv[1], float(sys.argv[2])
with requests.get(url, stream=True, timeout=limit, headers={"Accept": "text/event-stream"}) as r:
    print("transfer-encoding " + r.headers.get("Transfer-Encoding", "none"))
    print("streaming", flush=True)
    for line in r.iter_lines():
        if not line.startswith(b"data:"):
            continue
        text = line[5:].strip().decode()
        sent = text.split(" ", 1)[0]
        delay = time.time() * 1000 - int(sent) if sent.isdigit() else -1
        print(f"data {text} {delay:.0f}", flush=True)
