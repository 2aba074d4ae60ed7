#!/usr/bin/env python3
"""Turn bench/run's results file into a table; optionally write it into
doc/performance.md between the '<!-- bench:begin -->' and '<!-- bench:end -->' markers.

report.py RESULTS [DOC]

RESULTS holds 'key value...' lines: meta.* (date, machine, versions), and
<who>.<metric> with who in direct/haproxy/pollux (and baseline: pollux at an
earlier commit, `bench/run --baseline REV`), or '<who>.skipped reason'.
"""
import sys

TARGETS = {  # metric -> (direction, bound) for pollux/haproxy
    "conn_rate": (">=", 0.8),
    "tput_mib": (">=", 0.9),
    "idle_bytes": ("<=", 1.0),
    # The same work per second of proxy CPU: the fair figure when the load
    # generator's core, not the proxy, was the limit (see doc/performance.md).
    "conn_per_cpu": (">=", 0.8),
    "http_conn_rate": (">=", 0.8),
    "http_req_rate": (">=", 0.8),
    "tput_per_cpu": (">=", 0.9),
    # Counted under callgrind: fewer is better; pollux aims to be cheaper.
    "instr_http_req": ("<=", 1.0),
    "instr_http_conn": ("<=", 1.0),
    "instr_tcp_conn": ("<=", 1.0),
}
# pollux against its own earlier commit: no figure may be worse than this.
BASELINE_BOUND = 0.95
SATURATED = 90  # proxy CPU % above which the proxy itself was the limit


def load(path):
    seen = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                k, _, v = line.partition(" ")
                seen.setdefault(k, []).append(v)
    # `--rounds N` repeats each figure: keep the median of the numbers (the
    # last value for text).
    r = {k: median(vs) for k, vs in seen.items()}
    for who in ("haproxy", "baseline", "pollux"):
        for rate, cpu, out in (("conn_rate", "conn_cpu", "conn_per_cpu"),
                               ("tput_mib", "tput_cpu", "tput_per_cpu")):
            v, c = num(r, who, rate), num(r, who, cpu)
            if v is not None and c:
                r[f"{who}.{out}"] = str(v / (c / 100))
    return r


def median(vs):
    if len(set(vs)) == 1:
        return vs[0]
    try:
        xs = sorted(float(v) for v in vs)
    except ValueError:
        return vs[-1]
    if len(xs) == 1:
        return vs[0]
    m = len(xs) // 2
    return str(xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2)


def num(r, who, metric):
    try:
        return float(r[f"{who}.{metric}"])
    except (KeyError, ValueError):
        return None


def cell(r, who, metric, fmt):
    v = num(r, who, metric)
    if v is not None:
        return fmt.format(v)
    if f"{who}.skipped" in r:
        return "pending" if who == "pollux" else "not run"
    return "failed" if f"{who}.ran" in r else "–"


def ratio(r, metric):
    p, h = num(r, "pollux", metric), num(r, "haproxy", metric)
    op, bound = TARGETS[metric]
    if p is None or h is None or h == 0:
        return "pending" if "pollux.skipped" in r or "pollux.ran" not in r else "–", f"{op} {bound}"
    x = p / h
    ok = x >= bound if op == ">=" else x <= bound
    return f"{x:.2f}", f"{op} {bound} ({'met' if ok else 'MISSED'})"


def vs_baseline(r, metric):
    """pollux / baseline, oriented so that above 1 is better."""
    p, b = num(r, "pollux", metric), num(r, "baseline", metric)
    if p is None or b is None or b == 0 or p == 0:
        return "–"
    op, _ = TARGETS[metric]
    x = p / b if op == ">=" else b / p
    return f"{x:.2f}{'' if x >= BASELINE_BOUND else ' (WORSE)'}"


def table(r):
    n = r.get("meta.idle_n", "?")
    dur = r.get("meta.duration", "?")
    rows = [
        ("(a) New connections/s (1 KiB response, Connection: close, 50 concurrent, "
         f"{dur}s)", "conn_rate", "{:,.0f}", True),
        ("(a) proxy CPU during it", "conn_cpu", "{:.0f}%", False),
        ("(a) connections per proxy CPU-second", "conn_per_cpu", "{:,.0f}", True),
        (f"(b) Large transfer, MiB/s (100 MiB file, 1 connection, {dur}s)", "tput_mib", "{:,.0f}", True),
        ("(b) proxy CPU during it", "tput_cpu", "{:.0f}%", False),
        ("(b) MiB per proxy CPU-second", "tput_per_cpu", "{:,.0f}", True),
        (f"(c) Memory per idle proxied connection, bytes ({n} connections)", "idle_bytes",
         "{:,.0f}", True),
        (f"(d) HTTP new connections/s (1 KiB, Connection: close, 50 concurrent, {dur}s)",
         "http_conn_rate", "{:,.0f}", True),
        ("(d) latency p50 / p99", "http_conn_rate_lat", None, False),
        ("(d) proxy CPU during it", "http_conn_cpu", "{:.0f}%", False),
        (f"(e) HTTP requests/s over keep-alive (1 KiB, 50 connections, {dur}s)",
         "http_req_rate", "{:,.0f}", True),
        ("(e) latency p50 / p99", "http_req_rate_lat", None, False),
        ("(e) proxy CPU during it", "http_req_cpu", "{:.0f}%", False),
    ]
    if r.get("meta.instr_n", "0") != "0":
        rows += [
            ("(f) user-space instructions per keep-alive HTTP request (callgrind)",
             "instr_http_req", "{:,.0f}", True),
            ("(g) user-space instructions per HTTP connection, one request (callgrind)",
             "instr_http_conn", "{:,.0f}", True),
            ("(h) user-space instructions per TCP-mode connection (callgrind)",
             "instr_tcp_conn", "{:,.0f}", True),
        ]
    base = "baseline.ran" in r
    if base:
        out = ["| Measure | direct (no proxy) | HAProxy | pollux before | pollux | pollux/HAProxy | target "
               f"| after/before (>= {BASELINE_BOUND}) |",
               "|---|--:|--:|--:|--:|--:|---|--:|"]
    else:
        out = ["| Measure | direct (no proxy) | HAProxy | pollux | pollux/HAProxy | target |",
               "|---|--:|--:|--:|--:|---|"]
    for label, metric, fmt, has_ratio in rows:
        if fmt is None:  # latency: "p50 / p99" as wrk prints them
            base = metric[:-4]
            lat = lambda who: (f"{r[who + '.' + base + '_p50']} / {r[who + '.' + base + '_p99']}"
                               if r.get(f"{who}.{base}_p50") else cell(r, who, base, "{}"))
            mid = f" {lat('baseline')} |" if base else ""
            out.append(f"| {label} | {lat('direct')} | {lat('haproxy')} |{mid} {lat('pollux')} |  |  |"
                       + (" |" if base else ""))
            continue
        direct = cell(r, "direct", metric, fmt) if metric in ("conn_rate", "tput_mib", "http_conn_rate", "http_req_rate") else "–"
        h = cell(r, "haproxy", metric, fmt)
        p = cell(r, "pollux", metric, fmt)
        x, t = ratio(r, metric) if has_ratio else ("", "")
        if base:
            b = cell(r, "baseline", metric, fmt)
            vb = vs_baseline(r, metric) if has_ratio else ""
            out.append(f"| {label} | {direct} | {h} | {b} | {p} | {x} | {t} | {vb} |")
        else:
            out.append(f"| {label} | {direct} | {h} | {p} | {x} | {t} |")
    return "\n".join(out)


def notes(r):
    out = []
    for who in ("haproxy", "baseline", "pollux"):
        for cpu, test in (("conn_cpu", "connection"), ("tput_cpu", "throughput")):
            c = num(r, who, cpu)
            if c is not None and c < SATURATED:
                out.append(f"- {who} used {c:.0f}% of its CPU in the {test} test: not "
                           "CPU-bound, so the limit was elsewhere (the load generator's core, "
                           "or time the proxy spends waiting). The per-CPU-second row compares "
                           "the work done per CPU; the raw row is what the target is about.")
    for who in ("direct", "haproxy", "baseline", "pollux"):
        if f"{who}.skipped" in r:
            out.append(f"- {who}: not measured in this run ({r[who + '.skipped']}).")
        for k in sorted(r):
            if k.startswith(who + ".err_") and r[k] not in ("", "0", "none"):
                out.append(f"- {who}, {k.split('.', 1)[1][4:]}: {r[k]}")
    return "\n".join(out)


def section(r):
    m = lambda k: r.get("meta." + k, "?")
    lines = [
        f"Run of {m('date')} by `bench/run {m('args')}`".rstrip() + ":",
        "",
        f"- machine: {m('nproc')} CPUs, {m('cpu')}, Linux {m('kernel')}, {m('os')}; "
        f"load average before the run: {m('loadavg')}",
        f"- pinning: {m('pinning')}",
        f"- HAProxy: {m('haproxy')}; nginx: {m('nginx')}; load: {m('wrk')}",
        f"- pollux: {m('pollux')}",
    ] + ([f"- pollux before (`--baseline`): {m('baseline')}"] if "meta.baseline" in r else []) + [
        "",
        table(r),
    ]
    n = notes(r)
    if n:
        lines += ["", n]
    return "\n".join(lines)


def main():
    r = load(sys.argv[1])
    text = section(r)
    print(text)
    if len(sys.argv) > 2:
        doc = sys.argv[2]
        with open(doc) as f:
            body = f.read()
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        i, j = body.find(begin), body.find(end)
        if i < 0 or j < i:
            sys.exit(f"report.py: markers {begin} / {end} not found in {doc}")
        body = body[: i + len(begin)] + "\n" + text + "\n" + body[j:]
        with open(doc, "w") as f:
            f.write(body)
        print(f"\n(written to {doc})")


if __name__ == "__main__":
    main()
