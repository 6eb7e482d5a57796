#!/usr/bin/env python3
"""Write a captured-style event stream of about MB megabytes to PATH: JSON
data of about 100 bytes, ids, a type on every fourth event, a keep-alive
comment every 64 (like an LLM API's or a feed's). Usage: make_stream.py PATH MB"""
import sys

path, mb = sys.argv[1], int(sys.argv[2])
block = []
for i in range(4096):
    if i % 64 == 0:
        block.append(": keep-alive\n")
    ev = "event: update\n" if i % 4 == 0 else ""
    block.append(f'{ev}id: {i}\ndata: {{"seq":{i},"delta":"some streamed text here","usage":{{"tokens":{i % 97}}}}}\n\n')
chunk = "".join(block).encode()
with open(path, "wb") as f:
    written = 0
    while written < mb * 1000 * 1000:
        f.write(chunk)
        written += len(chunk)
