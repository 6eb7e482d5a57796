"""The server comparison's tables: medians over runs of what compare.sh
recorded. Like with like first (every server fed one POST per event), then
ssed's batched inputs next to the limit program, ssed's scaling, the other
figures, and the targets, each with its figure and whether it is met.

Usage: report.py RESULTS.tsv MACHINE VERSIONS RUNS PARAMETERS SECONDS  (Markdown on stdout)
Each line of RESULTS.tsv: scenario, row, run, then space-separated key=value."""
import statistics
import sys

path, machine, versions, runs, params, took = sys.argv[1:7]
values = {}  # (scenario, row) -> key -> [floats]
order = []
with open(path) as f:
    for line in f:
        scenario, row, _run, fields = line.rstrip("\n").split("\t", 3)
        key = (scenario, row)
        if key not in values:
            values[key] = {}
            order.append(key)
        for kv in fields.split():
            k, _, v = kv.partition("=")
            try:
                values[key].setdefault(k, []).append(float(v))
            except ValueError:
                pass
params_kv = dict(kv.partition("=")[::2] for kv in params.split())
rate = float(params_kv.get("rate", 1000))
subs = float(params_kv.get("subscribers", 1000))


def med(scenario, row, k):
    vs = values.get((scenario, row), {}).get(k)
    return statistics.median(vs) if vs else None


def num(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}"


def ms(us):
    return "–" if us is None else f"{us / 1000:.2f}"


def ratio(a, b, digits=2):
    return "–" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}"


def rows_of(scenario):
    return [r for s, r in order if s == scenario]


NAMES = {
    "ssed": "ssed",
    "nchan-1w": "nginx+nchan, 1 worker",
    "nchan-Nw": "nginx+nchan, 1 worker per core",
    "node": "Node.js/Express",
    "ssed-fifo": "ssed, FIFO",
    "limit-fifo": "limit program, FIFO",
    "ssed-post": "ssed, POST of many lines",
    "ssed-ssepub": "ssed, ssepub",
    "ssepub": "ssepub → ssed",
    "curl": "one curl -d per event → ssed",
    "ssecat": "ssecat - -o data",
}


def stream_table(scenario, first_col):
    """Deliveries/s, CPU per delivery, latency and (ssed) writes per delivery."""
    print(f"| {first_col} | deliveries/s | CPU µs per delivery | server CPU % | load generator CPU % | p50 ms | p99 ms "
          "| ssed writes per delivery |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows_of(scenario):
        g = lambda k: med(scenario, row, k)
        wpd = g("writes_per_delivery")
        print(f"| {NAMES.get(row, row)} | {num(g('rate'))} | {num(g('cpu_us_per_delivery'), 2)} | "
              f"{num(g('server_cpu_pct'))} | {num(g('loadgen_cpu_pct'))} | {ms(g('p50_us'))} | {ms(g('p99_us'))} | "
              f"{'' if wpd is None else f'{wpd:.3f}'} |")


print("## Server comparison\n")
print(f"- machine: {machine}")
print(f"- versions: {versions}")
print(f"- medians of {runs} run(s); {params}; the whole run took {int(took) // 60} min {int(took) % 60} s\n")

if rows_of("post1"):
    print(f"### Like with like: one POST per event, {int(subs):,} subscribers, as fast as delivered\n")
    print("Every server gets each event as its own HTTP POST on one keep-alive connection, and the next POST")
    print("goes out only when the last one is answered (one request in flight, as an application that awaits")
    print("each answer publishes); at most a window of events is owed to each subscriber. CPU is the server's")
    print("user + system time (all its processes, from /proc/PID/stat) over the measuring window, divided by")
    print("the events the subscribers received in it. A load generator near 100% means the figure is as much")
    print("the client's limit as the server's (both share the same cores).\n")
    stream_table("post1", "server")
    print()

if rows_of("rate"):
    print(f"### A fixed rate: {int(rate):,} events/s to {int(subs):,} subscribers "
          f"({rate * subs:,.0f} deliveries/s wanted)\n")
    print("One POST per event, one in flight: an event the server has not yet answered for waits, so a server")
    print("that cannot keep up shows it as fewer deliveries. \"ssed, FIFO\" is ssed fed the same rate through")
    print("its FIFO (the input path stdin takes), one line per write.\n")
    stream_table("rate", "server")
    print()

if rows_of("batched"):
    print(f"### Batched inputs: ssed next to the limit program, as fast as delivered\n")
    print(f"Not like with like with the tables above: here many events reach the server per write. FIFO: the")
    print(f"load generator writes lines into the server's FIFO, many per write. POST of many lines: up to")
    print(f"{params_kv.get('post_batch', '?')} lines per POST, requests pipelined. ssepub: the load generator")
    print(f"writes lines into a pipe that `ssepub` reads and POSTs in batches. The limit program writes each")
    print(f"read's events to every socket in one write.\n")
    stream_table("batched", "input")
    print()

scales = sorted({(int(s.split("-")[1]), int(s.split("-")[2])) for s, _ in order if s.startswith("scale-")})
if scales:
    print("### ssed scaling: one POST per event, one in flight, as fast as delivered\n")
    sizes = sorted({z for _, z in scales})
    counts = sorted({n for n, _ in scales})
    label = lambda z: f"{z // 1024} KiB" if z >= 1024 else f"{z} B"
    print("CPU µs per delivery / p99 ms / deliveries per second:\n")
    print("| subscribers | " + " | ".join(label(z) for z in sizes) + " |")
    print("| ---: | " + " | ".join("---:" for _ in sizes) + " |")
    for n in counts:
        cells = []
        for z in sizes:
            s = f"scale-{n}-{z}"
            cells.append(f"{num(med(s, 'ssed', 'cpu_us_per_delivery'), 2)} / {ms(med(s, 'ssed', 'p99_us'))} / "
                         f"{num(med(s, 'ssed', 'rate'))}")
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    short = []
    for n, z in scales:
        held, drops = med(f"scale-{n}-{z}", "ssed", "held"), med(f"scale-{n}-{z}", "ssed", "slow_subscriber_drops")
        if (held is not None and held < n) or drops:
            short.append(f"{n:,} × {label(z)}: {num(held)} of {n:,} subscribers held at the end"
                         + (f", {num(drops)} dropped as too slow (--max-pending)" if drops else ""))
    if short:
        print("\nWhere the load generator could not keep up and ssed dropped subscribers (medians): "
              + "; ".join(short) + ".")
    print()

others = [k for k in order if not k[0] in ("post1", "rate", "batched") and not k[0].startswith("scale-")]
if others:
    print("### Idle subscribers, publishing, parsing\n")
    print("| scenario | who | result |")
    print("| --- | --- | --- |")
    for scenario, row in others:
        if scenario.startswith("idle-"):
            label = f"idle, {int(scenario[5:]):,} subscribers"
            result = f"{num(med(scenario, row, 'held'))} held, {num(med(scenario, row, 'kib_per_sub'), 2)} KiB each"
        elif scenario == "publish":
            label = "publish into ssed"
            result = f"{num(med(scenario, row, 'rate'))} events/s"
        elif scenario == "parser":
            label = "parse a stream"
            result = f"{num(med(scenario, row, 'mb_s'))} MB/s"
        else:
            label, result = scenario, ""
        print(f"| {label} | {NAMES.get(row, row)} | {result} |")
    print()


# The targets of the like-for-like issue, each judged on this run's figures.
def target(text, ok, figure):
    mark = "–" if ok is None else ("met" if ok else "**not met**")
    print(f"| {text} | {figure} | {mark} |")


def judge(ok, *needed):
    return None if any(v is None for v in needed) else ok()


print("### Targets\n")
print("| target | this run | met |")
print("| --- | --- | --- |")
r_s, r_n = med("post1", "ssed", "rate"), med("post1", "nchan-1w", "rate")
target(f"one POST per event, {int(subs):,} subscribers: ssed ≥ 10 × nginx+nchan (1 worker) deliveries/s",
       judge(lambda: r_s >= 10 * r_n, r_s, r_n), f"{ratio(r_s, r_n)} × ({num(r_s)} vs {num(r_n)})")
c_s, c_n = med("post1", "ssed", "cpu_us_per_delivery"), med("post1", "nchan-1w", "cpu_us_per_delivery")
target("… and ≤ ¼ of its CPU per delivery", judge(lambda: c_s <= c_n / 4, c_s, c_n),
       f"{ratio(c_s, c_n)} × ({num(c_s, 2)} vs {num(c_n, 2)} µs)")
want = rate * subs
d_s = med("rate", "ssed", "rate")
target(f"one POST per event at {int(rate):,} events/s to {int(subs):,}: ssed delivers ≥ 99% of {want:,.0f}/s",
       judge(lambda: d_s >= 0.99 * want, d_s), "–" if d_s is None else f"{100 * d_s / want:.1f}% ({num(d_s)}/s)")
p_s, p_f = med("rate", "ssed", "p99_us"), med("rate", "ssed-fifo", "p99_us")
target("… with p99 within 2 × of the same rate fed from stdin (FIFO)", judge(lambda: p_s <= 2 * p_f, p_s, p_f),
       f"{ratio(p_s, p_f)} × ({ms(p_s)} vs {ms(p_f)} ms)")
b_p, b_f = med("batched", "ssed-post", "rate"), med("batched", "ssed-fifo", "rate")
o_p = med("post1", "ssed", "rate")
target("ssed fed by one POST per event (one in flight) at the fan-out limit ≥ 0.8 × ssed fed by stdin (FIFO)",
       judge(lambda: o_p >= 0.8 * b_f, o_p, b_f), f"{ratio(o_p, b_f)} × ({num(o_p)} vs {num(b_f)})")
target("ssed fed by POST (many lines each) at the fan-out limit ≥ 0.8 × ssed fed by stdin (FIFO)",
       judge(lambda: b_p >= 0.8 * b_f, b_p, b_f), f"{ratio(b_p, b_f)} × ({num(b_p)} vs {num(b_f)})")
k10, k1 = med("scale-10000-1024", "ssed", "cpu_us_per_delivery"), med("scale-1000-1024", "ssed", "cpu_us_per_delivery")
target("10,000 subscribers × 1 KiB: CPU per delivery ≤ 1.5 × that at 1,000 × 1 KiB", judge(lambda: k10 <= 1.5 * k1, k10, k1),
       f"{ratio(k10, k1)} × ({num(k10, 2)} vs {num(k1, 2)} µs)")
idle = sorted({s for s, r in order if s.startswith("idle-") and r == "ssed"}, key=lambda s: int(s[5:]))
m = [med(s, "ssed", "kib_per_sub") for s in idle]
m = [v for v in m if v is not None]
target("idle memory per subscriber ≤ 0.5 KiB (ssed)", judge(lambda: max(m) <= 0.5, *(m or [None])),
       ", ".join(f"{num(v, 2)} KiB at {int(s[5:]):,}" for s, v in zip(idle, m)) or "–")
