#!/usr/bin/env python3
"""Checks the C sources under cmd/ and common/ for what review keeps finding
by hand: a file over 600 lines, a function over 80, a dependency circle
between modules (by include, or by call among files that share a header),
and an include that points up a layer.

Usage: check_source.py [--root DIR] [--layers FILE] [--allow FILE]

Every finding is one line, "check_source: FILE: what"; each has a key (the
words after "[" at its end) that tests/lib/source_allow.txt may list, one a
line, with " -- " and the reason after it. An allowed finding is not an
error, but an allowed key that no longer occurs is, so the list cannot go
stale. Exit status: 0 clean, 1 findings, 2 usage or table errors.

Definitions (see also the comments on each function):
- a module is X.c and X.h in one folder (either may be missing), and
  X_internal.h when X.c exists (the private header of X's files);
- a function's length is the count of lines strictly between the line of
  its opening brace and the line of its closing brace;
- a file's layer is the rank of the longest folder of the layer table that
  holds it; "x.h" is resolved as the Makefile's -I flags would: the
  including file's folder, then every folder of the table (today's
  Makefile has -Icommon; a folder per layer may each get one).
"""

import argparse
import os
import re
import sys

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
MAX_CIRCLES = 200
SOURCE_TOPS = ("cmd", "common")
KEYWORDS = {
    "if", "for", "while", "switch", "return", "sizeof", "do", "else", "case",
    "_Alignof", "_Alignas", "_Static_assert", "_Generic", "defined", "__attribute__",
    "__typeof__", "typeof", "alignof", "static_assert", "offsetof", "va_arg",
}
IDENT_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def strip_code(text):
    """The text with comments, string and character literals and
    preprocessor lines blanked (newlines kept, so line numbers hold)."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        ch = text[i]
        if line_start and ch in " \t":
            out.append(ch)
            i += 1
            continue
        if line_start and ch == "#":
            # a directive, with its continuation lines
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        line_start = False
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            i = end
            continue
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        if ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(ch + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + ch)
            i = j
            continue
        if ch == "\n":
            line_start = True
        out.append(ch)
        i += 1
    return "".join(out)


def function_name(header):
    """The name a top-level definition's header defines, or None when the
    text before '{' is not a function's signature (a struct, an
    initializer)."""
    head = header.rstrip()
    if not head.endswith(")"):
        return None
    depth = 0
    for k in range(len(head) - 1, -1, -1):
        if head[k] == ")":
            depth += 1
        elif head[k] == "(":
            depth -= 1
            if depth == 0:
                before = head[:k]
                if "=" in re.sub(r"\([^()]*\)", "", before):
                    return None
                m = re.search(r"([A-Za-z_]\w*)\s*$", before)
                if not m or m.group(1) in KEYWORDS:
                    return None
                return m.group(1)
    return None


def functions(code):
    """Every top-level function definition in stripped code: dicts with
    name, static, open_line, close_line, body (the text between braces)."""
    found = []
    depth = 0
    stmt_start = 0
    open_pos = None
    for pos, ch in enumerate(code):
        if ch == "{":
            if depth == 0:
                open_pos = pos
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and open_pos is not None:
                header = code[stmt_start:open_pos]
                name = function_name(header)
                if name:
                    found.append({
                        "name": name,
                        "static": re.search(r"\bstatic\b", header) is not None,
                        "open_line": code.count("\n", 0, open_pos) + 1,
                        "close_line": code.count("\n", 0, pos) + 1,
                        "body": code[open_pos + 1:pos],
                    })
                stmt_start = pos + 1
                open_pos = None
            depth = max(depth, 0)
        elif ch == ";" and depth == 0:
            stmt_start = pos + 1
    return found


def declared_names(code):
    """Names a header declares as functions: identifiers followed by '('
    at brace depth 0 (prototypes), skipping function-pointer types."""
    names = set()
    depth = 0
    for piece in re.split(r"([{}])", code):
        if piece == "{":
            depth += 1
        elif piece == "}":
            depth -= 1
        elif depth == 0:
            for m in IDENT_CALL.finditer(piece):
                if m.group(1) not in KEYWORDS:
                    names.add(m.group(1))
    return names


class Tree:
    """The sources under ROOT: their text, includes, functions and calls."""

    def __init__(self, root, layers):
        self.root = root
        self.layers = layers  # [(folder, rank)]
        self.files = {}  # relative path -> stripped code
        self.lines = {}
        self.includes = {}  # relative path -> [header name]
        for top in SOURCE_TOPS:
            for folder, _dirs, names in os.walk(os.path.join(root, top)):
                for name in names:
                    if name.endswith((".c", ".h")):
                        path = os.path.relpath(os.path.join(folder, name), root)
                        with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                            text = f.read()
                        self.lines[path] = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
                        self.includes[path] = INCLUDE.findall(text)
                        self.files[path] = strip_code(text)
        self.funcs = {p: functions(c) for p, c in self.files.items() if p.endswith(".c")}

    def search_path(self, path):
        """Where "x.h" from PATH is looked for, in order: PATH's folder,
        then every folder of the table, those of PATH's own cmd/<binary>/
        first (the binaries have headers of the same name, options.h),
        then those outside cmd/, then the rest."""
        own = os.path.dirname(path)
        parts = own.split("/")
        binary = "/".join(parts[:2]) if parts[0] == "cmd" and len(parts) > 1 else None

        def order(folder):
            if binary and (folder == binary or folder.startswith(binary + "/")):
                return 0
            return 2 if folder == "cmd" or folder.startswith("cmd/") else 1

        dirs = [own]
        for folder in sorted((f for f, _rank in self.layers), key=order):
            if folder not in dirs:
                dirs.append(folder)
        return dirs

    def resolve(self, path, header):
        for folder in self.search_path(path):
            cand = os.path.normpath(os.path.join(folder, header))
            if cand in self.files:
                return cand
        return None

    def layer_of(self, path):
        folder = os.path.dirname(path)
        best = None
        for name, rank in self.layers:
            if folder == name or folder.startswith(name + "/"):
                if best is None or len(name) > len(best[0]):
                    best = (name, rank)
        return best


def read_layers(path):
    layers = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            if len(words) != 2 or not words[1].isdigit():
                raise ValueError(f"{path}:{number}: expected 'FOLDER RANK', got '{line}'")
            layers.append((words[0].rstrip("/"), int(words[1])))
    return layers


def read_allow(path):
    allow = {}
    if not path:
        return allow
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, reason = line.partition(" -- ")
            if not sep or not reason.strip():
                raise ValueError(f"{path}:{number}: expected 'KEY -- REASON', got '{line}'")
            allow[key.strip()] = number
    return allow


def check_lengths(tree):
    """Files over MAX_FILE_LINES, functions over MAX_FUNCTION_LINES."""
    for path in sorted(tree.files):
        if tree.lines[path] > MAX_FILE_LINES:
            yield (path, f"{tree.lines[path]} lines, over {MAX_FILE_LINES}", f"file {path}")
    for path in sorted(tree.funcs):
        for fn in tree.funcs[path]:
            body = fn["close_line"] - fn["open_line"] - 1
            if body > MAX_FUNCTION_LINES:
                yield (f"{path}:{fn['open_line']}",
                       f"function {fn['name']} has {body} lines, over {MAX_FUNCTION_LINES}",
                       f"function {path}:{fn['name']}")


def circles(graph):
    """Every elementary circle of GRAPH ({node: {node: label}}), as a list
    of nodes starting from its smallest, at most MAX_CIRCLES of them."""
    found = []
    nodes = sorted(graph)
    for start in nodes:
        stack = [(start, [start])]
        while stack and len(found) < MAX_CIRCLES:
            node, path = stack.pop()
            for nxt in sorted(graph.get(node, {}), reverse=True):
                if nxt == start:
                    found.append(path)
                elif nxt > start and nxt not in path:
                    stack.append((nxt, path + [nxt]))
    return found


def describe_circle(graph, path):
    """'a -[label]-> b -[label]-> a' and its key 'a -> b -> a'."""
    ring = path + [path[0]]
    text = ring[0]
    for a, b in zip(ring, ring[1:]):
        text += f" -[{graph[a][b]}]-> {b}"
    return text, " -> ".join(ring)


def module_of(tree, path):
    """X.c and X.h are module X; X_internal.h is X's private half when
    there is an X.c (store_internal.h is store's; h2_internal.h, shared by
    h2_session.c and h2_stream.c, is a module of its own)."""
    stem = os.path.splitext(path)[0]
    if stem.endswith("_internal") and stem[:-len("_internal")] + ".c" in tree.files:
        return stem[:-len("_internal")]
    return stem


def check_include_circles(tree):
    """Circles between modules, by #include."""
    graph = {}
    for path, headers in tree.includes.items():
        for header in headers:
            target = tree.resolve(path, header)
            if target and module_of(tree, target) != module_of(tree, path):
                graph.setdefault(module_of(tree, path), {}).setdefault(module_of(tree, target), header)
    found = circles(graph)
    for path in found:
        text, key = describe_circle(graph, path)
        yield (path[0], f"include circle: {text}", f"include-circle {key}")
    if len(found) >= MAX_CIRCLES:
        yield ("includes", f"more than {MAX_CIRCLES} include circles; the rest are not shown", "include-circles-many")


def header_groups(tree):
    """For each header, the .c files that share it: those that include it
    and define a function it declares."""
    groups = []
    for header in sorted(p for p in tree.files if p.endswith(".h")):
        declared = declared_names(tree.files[header])
        members = set()
        for path, fns in tree.funcs.items():
            includes = {tree.resolve(path, h) for h in tree.includes[path]}
            if header in includes and any(not f["static"] and f["name"] in declared for f in fns):
                members.add(path)
        if len(members) > 1:
            groups.append(members)
    return groups


def call_graph(tree):
    """{file: {file: a function called}} among .c files that share a header."""
    public, own = {}, {}
    for path, fns in tree.funcs.items():
        own[path] = {f["name"] for f in fns}
        for f in fns:
            if not f["static"]:
                public.setdefault(f["name"], path)
    together = {}
    for group in header_groups(tree):
        for path in group:
            together.setdefault(path, set()).update(group - {path})
    graph = {}
    for path, fns in sorted(tree.funcs.items()):
        for f in fns:
            for m in IDENT_CALL.finditer(f["body"]):
                name = m.group(1)
                if name in own[path] or name not in public:
                    continue
                target = public[name]
                if target in together.get(path, ()):
                    graph.setdefault(path, {}).setdefault(target, name)
    return graph


def check_call_circles(tree):
    """Circles by call among files that share a header."""
    graph = call_graph(tree)
    found = circles(graph)
    for path in found:
        text, key = describe_circle(graph, path)
        yield (path[0], f"call circle: {text}", f"call-circle {key}")
    if len(found) >= MAX_CIRCLES:
        yield ("calls", f"more than {MAX_CIRCLES} call circles; the rest are not shown", "call-circles-many")


def check_layers(tree):
    """Includes that point up a layer; folders the table does not list."""
    seen = set()
    for path in sorted(tree.files):
        mine = tree.layer_of(path)
        if mine is None:
            folder = os.path.dirname(path)
            if folder not in seen:
                seen.add(folder)
                yield (path, f"folder {folder} is in no layer of the layer table", f"layer-missing {folder}")
            continue
        for header in tree.includes[path]:
            target = tree.resolve(path, header)
            theirs = tree.layer_of(target) if target else None
            if theirs and theirs[1] > mine[1]:
                yield (path, f"includes {target}: layer {theirs[0]} ({theirs[1]}) is above "
                             f"layer {mine[0]} ({mine[1]})", f"layer-up {path} {target}")
    for folder, _rank in tree.layers:
        if not os.path.isdir(os.path.join(tree.root, folder)):
            yield ("layers", f"the layer table lists {folder}, which does not exist", f"layer-gone {folder}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")))
    parser.add_argument("--layers", default=os.path.join(here, "layers.txt"))
    parser.add_argument("--allow", default=None, help="allow-list (none unless given)")
    args = parser.parse_args()
    try:
        layers = read_layers(args.layers)
        allow = read_allow(args.allow)
    except (OSError, ValueError) as e:
        print(f"check_source: {e}", file=sys.stderr)
        return 2
    tree = Tree(args.root, layers)
    errors = allowed = 0
    used = set()
    for check in (check_lengths, check_include_circles, check_call_circles, check_layers):
        for where, what, key in check(tree):
            if key in allow:
                used.add(key)
                allowed += 1
                print(f"check_source: allowed: {where}: {what} [{key}]")
            else:
                errors += 1
                print(f"check_source: {where}: {what} [{key}]")
    for key, number in sorted(allow.items(), key=lambda kv: kv[1]):
        if key not in used:
            errors += 1
            print(f"check_source: {args.allow}:{number}: allowed '{key}' no longer occurs; remove it")
    print(f"check_source: {len(tree.files)} files, {errors} errors, {allowed} allowed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
