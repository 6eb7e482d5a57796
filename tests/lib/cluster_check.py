#!/usr/bin/env python3
"""Check raw SSE streams (curl output) saved from a cluster's nodes.

cluster_check.py events FILE            print "ID DATA" per event, in order
cluster_check.py same EXPECT FILE...    every file holds exactly the EXPECT
    data values (one per line in the file EXPECT), each once, all files in
    the same order with the same ids, ids numeric and increasing; prints
    "sent N received N duplicated N lost N" summed over the files.
    With --ignore-gaps, ssed-gap events are left out (after Redis lost its
    data a node announces the hole it can no longer fill).
cluster_check.py union EXPECT FILE...   the files together, in order (one
    subscriber that reconnected), hold each expected value exactly once."""
import sys


def events(path):
    """(id, data) per event; an ssed-gap event's data is "<gap>"."""
    out, data, last_id, gap = [], [], None, False
    with open(path, "rb") as f:
        for raw in f.read().split(b"\n"):
            line = raw.rstrip(b"\r")
            if line == b"":
                if data:
                    out.append((last_id, "<gap>" if gap else b"\n".join(data).decode()))
                data, gap = [], False
            elif line.startswith(b"data:"):
                data.append(line[5:].lstrip(b" ") if line[5:6] == b" " else line[5:])
            elif line.startswith(b"id:"):
                last_id = line[3:].strip().decode()
            elif line.startswith(b"event: ssed-gap"):
                gap = True
    return out


def expected(path):
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def judge(want, got_data):
    dup = len(got_data) - len(set(got_data))
    lost = len(set(want) - set(got_data))
    extra = set(got_data) - set(want)
    return dup, lost, extra


def main():
    cmd = sys.argv[1]
    ignore_gaps = len(sys.argv) > 2 and sys.argv[2] == "--ignore-gaps"
    if ignore_gaps:
        del sys.argv[2]
    if cmd == "events":
        for i, d in events(sys.argv[2]):
            print(i, d)
        return 0
    want = expected(sys.argv[2])
    files = sys.argv[3:]
    if cmd == "union":
        evs = [e for f in files for e in events(f)]
        dup, lost, extra = judge(want, [d for _, d in evs])
        print("sent %d received %d duplicated %d lost %d" % (len(want), len(evs), dup, lost))
        return 0 if not dup and not lost and not extra else 1
    ok, ref = True, None
    tot_recv = tot_dup = tot_lost = 0
    for f in files:
        evs = [e for e in events(f) if not (ignore_gaps and e[1] == "<gap>")]
        data = [d for _, d in evs]
        dup, lost, extra = judge(want, data)
        tot_recv, tot_dup, tot_lost = tot_recv + len(evs), tot_dup + dup, tot_lost + lost
        ids = [int(i) for i, _ in evs]
        if dup or lost or extra or ids != sorted(set(ids)):
            print("%s: duplicated %d lost %d unexpected %r ids increasing %s" % (f, dup, lost, sorted(extra)[:5],
                                                                                 ids == sorted(set(ids))))
            ok = False
        if ref is None:
            ref = evs
        elif evs != ref:
            print("%s: order or ids differ from %s" % (f, files[0]))
            ok = False
    print("sent %d received %d duplicated %d lost %d (over %d subscribers)" % (len(want), tot_recv, tot_dup, tot_lost,
                                                                             len(files)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
