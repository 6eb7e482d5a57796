#!/usr/bin/env python3
"""Finds messages that would print "1 channels": a printf-style count
followed by a plural noun, in the C sources of cmd/ and common/, with no
singular form chosen for a count of 1 ("%zu channel%s", n == 1 ? "" : "s").
A count that is never 1 where it is printed is listed in ALLOWED with why.

Usage: check_plurals.py ROOT; prints each finding as path:line: text and
exits 1 when there is any."""
import pathlib
import re
import sys

COUNT = r"%(?:hh|h|ll|l|z|j|t)?[diu]"
# The count, maybe one word between (an adjective), then a word in -s.
PLURAL = re.compile(COUNT + r" (?:[a-z-]+ )?([a-z]+s)\b")
NOT_NOUNS = {"is", "was", "has", "as", "its", "this", "ms", "always", "us"}
# (path, text of the finding) -> why it is never printed with 1.
ALLOWED = {
    ("cmd/ssed/net/listener.c", "%zu bytes"): "sizeof sun_path - 1 (107)",
    ("cmd/ssed/net/systemd_sockets.c", "%lld sockets"): "more than the most served, itself at least 1",
    ("cmd/ssed/core/input.c", "%zu bytes"): "larger than --max-event-size, at least 1",
    ("cmd/ssed/core/config_file.c", "%d bytes"): "CONFIG_FILE_MAX",
    ("cmd/ssepub/source.c", "%zu bytes"): "more than --max-event-size, at least 1",
    ("cmd/ssecat/options.c", "%d arguments"): "more than one URL",
    ("cmd/ssecat/sink.c", "%zu bytes"): "over --max-event-size, at least 1",
    ("cmd/ssecat/stream.c", "%d redirects"): "STREAM_MAX_REDIRECTS",
    ("common/cli.c", "%llu bytes"): "opt->min, 1 handled apart ('cannot be empty')",
    ("common/cli.c", "%d rows"): "CLI_MAX_OPTIONS",
    ("cmd/ssed/http/h2_session.c", "%d streams"): "H2_MAX_RESETS_PER_SECOND",
}
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def literals(text):
    """Each run of adjacent string literals, joined, with its line."""
    runs, last_end = [], -1
    for m in LITERAL.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        if runs and text[last_end:m.start()].strip() == "":
            runs[-1][1] += m.group(1)
        else:
            runs.append([line, m.group(1)])
        last_end = m.end()
    return runs


def main():
    root = pathlib.Path(sys.argv[1])
    found = 0
    for path in sorted(list(root.glob("cmd/**/*.c")) + list(root.glob("common/*.c"))):
        rel = path.relative_to(root).as_posix()
        for line, text in literals(path.read_text(encoding="utf-8")):
            for m in PLURAL.finditer(text):
                if m.group(1) in NOT_NOUNS:
                    continue
                key = m.group(0).replace(" " + m.group(1), "").split(" ")[0] + " " + m.group(1)
                if (rel, key) in ALLOWED:
                    continue
                print(f"{rel}:{line}: '{m.group(0)}' prints '1 {m.group(1)}' for a count of 1")
                found += 1
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
