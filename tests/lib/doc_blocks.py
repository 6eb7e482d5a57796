#!/usr/bin/env python3
"""Print the example blocks of man pages (.nf ... .fi, roff escapes undone)
and README files (``` fences) that contain a word, so tests run the docs as
written and the docs cannot drift from what is tested.

Usage: doc_blocks.py --containing WORD --out DIR FILE...
Writes DIR/1, DIR/2, ... (one block each, its source as DIR/N.from) and
prints how many there were."""
import argparse
import os
import re

ROFF = [(r"\(aq", "'"), (r"\(dq", '"'), (r"\-", "-"), (r"\e", "\\"), (r"\\", "\\"), (r"\&", "")]


def unroff(line):
    out, i = [], 0
    while i < len(line):
        for esc, text in ROFF:
            if line.startswith(esc, i):
                out.append(text)
                i += len(esc)
                break
        else:
            out.append(line[i])
            i += 1
    return re.sub(r"\\f[BIRP]", "", "".join(out))


def man_blocks(text):
    block = None
    for line in text.splitlines():
        if line.startswith(".nf"):
            block = []
        elif line.startswith(".fi"):
            if block is not None:
                yield "\n".join(block) + "\n"
            block = None
        elif block is not None and not line.startswith(".PP"):
            block.append(unroff(line))


def markdown_blocks(text):
    block = None
    for line in text.splitlines():
        if line.startswith("```"):
            if block is None:
                block = []
            else:
                yield "\n".join(block) + "\n"
                block = None
        elif block is not None:
            block.append(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--containing", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    n = 0
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        blocks = man_blocks(text) if re.search(r"\.\d$", path) else markdown_blocks(text)
        for block in blocks:
            if args.containing not in block:
                continue
            n += 1
            with open(os.path.join(args.out, str(n)), "w", encoding="utf-8") as f:
                f.write(block)
            with open(os.path.join(args.out, f"{n}.from"), "w", encoding="utf-8") as f:
                f.write(path + "\n")
    print(n)


if __name__ == "__main__":
    main()
