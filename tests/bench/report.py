"""The server comparison's table: medians over runs of what compare.sh
recorded, ratios ssed / each other server, and the issue's targets.

Usage: report.py RESULTS.tsv MACHINE VERSIONS RUNS PARAMETERS  (Markdown on stdout)
Each line of RESULTS.tsv: scenario, server, run, then space-separated key=value."""
import statistics
import sys

path, machine, versions, runs, params = sys.argv[1:6]
values = {}  # (scenario, server) -> key -> [floats]
order = []
with open(path) as f:
    for line in f:
        scenario, server, _run, fields = line.rstrip("\n").split("\t", 3)
        key = (scenario, server)
        if key not in values:
            values[key] = {}
            order.append(key)
        for kv in fields.split():
            k, _, v = kv.partition("=")
            try:
                values[key].setdefault(k, []).append(float(v))
            except ValueError:
                pass


def med(scenario, server, k):
    vs = values.get((scenario, server), {}).get(k)
    return statistics.median(vs) if vs else None


def num(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}"


def ms(us):
    return "–" if us is None else f"{us / 1000:.2f}"


def ratio(a, b, digits=2):
    return "–" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}"


LABELS = {
    "fanout": "fan-out, as fast as possible",
    "lowrate": "low rate, 100 events/s",
    "publish": "publish into ssed",
    "parser": "parse a stream",
}
SERVER_LABELS = {"ssepub": "ssepub → ssed", "curl": "one curl -d per event → ssed", "ssecat": "ssecat - -o data"}

print("## Server comparison\n")
print(f"- machine: {machine}")
print(f"- versions: {versions}")
print(f"- medians of {runs} run(s); {params}\n")
print("| scenario | server | result | p50 ms | p99 ms | max ms |")
print("| --- | --- | --- | ---: | ---: | ---: |")
for scenario, server in order:
    label = LABELS.get(scenario, scenario)
    who = SERVER_LABELS.get(server, server)
    lat = ["", "", ""]
    if scenario.startswith("idle-"):
        want = int(scenario[5:])
        label = f"idle, {want:,} subscribers"
        held = med(scenario, server, "held")
        kib = med(scenario, server, "kib_per_sub")
        result = f"{num(held)} held, {num(kib, 2)} KiB each"
    elif scenario in ("fanout", "lowrate"):
        result = f"{num(med(scenario, server, 'rate'))} events/s delivered"
        lat = [ms(med(scenario, server, k)) for k in ("p50_us", "p99_us", "max_us")]
        if scenario == "fanout":
            lat[2] = ""
    elif scenario == "publish":
        result = f"{num(med(scenario, server, 'rate'))} events/s"
    elif scenario == "parser":
        result = f"{num(med(scenario, server, 'mb_s'))} MB/s"
    else:
        result = ""
    print(f"| {label} | {who} | {result} | {lat[0]} | {lat[1]} | {lat[2]} |")

others = [s for s in ("nchan-1w", "nchan-Nw", "node", "limit") if any(k[1] == s for k in order)]
idle = [k[0] for k in order if k[0].startswith("idle-")]
idle = sorted(set(idle), key=lambda s: int(s[5:]))
rows = [("fan-out events/s (higher is better)", "fanout", "rate"),
        ("low-rate p99 latency (lower is better)", "lowrate", "p99_us")]
for s in idle:
    rows.append((f"idle {int(s[5:]):,}: KiB per subscriber (lower is better)", s, "kib_per_sub"))
    rows.append((f"idle {int(s[5:]):,}: subscribers held", s, "held"))
if others:
    print("\n| ssed / … | " + " | ".join(others) + " |")
    print("| --- | " + " | ".join("---:" for _ in others) + " |")
    for label, scenario, k in rows:
        mine = med(scenario, "ssed", k)
        print(f"| {label} | " + " | ".join(ratio(mine, med(scenario, o, k)) for o in others) + " |")

# The targets of issue 7, each judged on this run's figures.
def target(text, ok, figure):
    mark = "–" if ok is None else ("yes" if ok else "**no**")
    print(f"| {text} | {figure} | {mark} |")


print("\n| target | this run | met |")
print("| --- | --- | --- |")
f_s, f_n, f_l = (med("fanout", s, "rate") for s in ("ssed", "nchan-1w", "limit"))
target("fan-out: ssed ≥ 1.5 × nchan (1 worker)", None if None in (f_s, f_n) else f_s >= 1.5 * f_n,
       f"{ratio(f_s, f_n)} ×")
target("fan-out: ssed ≥ 0.5 × limit", None if None in (f_s, f_l) else f_s >= 0.5 * f_l, f"{ratio(f_s, f_l)} ×")
l_s, l_n = med("lowrate", "ssed", "p99_us"), med("lowrate", "nchan-1w", "p99_us")
target("low-rate p99: ssed ≤ nchan (1 worker)", None if None in (l_s, l_n) else l_s <= l_n,
       f"{ms(l_s)} ms vs {ms(l_n)} ms")
target("low-rate p99 under 5 ms", None if l_s is None else l_s < 5000, f"{ms(l_s)} ms")
if idle:
    first = idle[0]
    m_s, m_n = med(first, "ssed", "kib_per_sub"), med(first, "nchan-1w", "kib_per_sub")
    target(f"idle memory per subscriber ({int(first[5:]):,}): ssed ≤ ½ nchan",
           None if None in (m_s, m_n) else m_s <= m_n / 2, f"{num(m_s, 2)} vs {num(m_n, 2)} KiB")
    big = [s for s in idle if int(s[5:]) >= 50000]
    if big:
        h = med(big[-1], "ssed", "held")
        target("50,000 idle subscribers held by ssed", None if h is None else h >= 50000, num(h))
p_s, p_c = med("publish", "ssepub", "rate"), med("publish", "curl", "rate")
target("ssepub ≥ 100 × one curl per event", None if None in (p_s, p_c) else p_s >= 100 * p_c, f"{ratio(p_s, p_c, 0)} ×")
c_s, c_c = med("parser", "ssecat", "mb_s"), med("parser", "cat", "mb_s")
target("ssecat parser ≥ 1 GB/s", None if c_s is None else c_s >= 1000, f"{num(c_s)} MB/s")
target("ssecat within 3 × of cat", None if None in (c_s, c_c) else c_c <= 3 * c_s, f"cat is {ratio(c_c, c_s)} × faster")
