#!/usr/bin/env python3
"""Turn bench/tls's results file into a table; optionally write it into
doc/performance.md between '<!-- tls-bench:begin -->' and '<!-- tls-bench:end -->'.

report-tls.py RESULTS [DOC]

RESULTS holds 'key value' lines: meta.* and <who>.<cert>.<version>.<figure>.<field>
with who in haproxy/pollux, cert in ecdsa/rsa, version 13/12.
"""
import sys

# (figure, field, label, unit, target for pollux/HAProxy: (direction, bound) or None)
ROWS = [
    ("full", "cpu_us", "CPU per full handshake + 1 request", "µs", ("<=", 0.7)),
    ("resumed", "cpu_us", "CPU per resumed handshake + 1 request", "µs", None),
    ("full", "rate", "full handshakes/s (client-bound, see below)", "/s", None),
    ("resumed", "rate", "resumed handshakes/s", "/s", None),
    ("mib", "cpu_us", "CPU per MiB of HTTPS download", "µs", ("<=", 1.0)),
    ("mib", "mib_s", "HTTPS download, one connection", "MiB/s", None),
    ("idle", "bytes", "memory per idle TLS connection", "bytes", ("<=", 0.5)),
]
CERTS = (("ecdsa", "ECDSA P-256"), ("rsa", "RSA-2048"))
VERSIONS = (("13", "1.3"), ("12", "1.2"))


def num(r, key):
    try:
        return float(r[key])
    except (KeyError, ValueError):
        return None


def best(key, vs):
    """The lowest cost (CPU, memory) or the highest rate of the rounds."""
    try:
        xs = [float(v) for v in vs]
    except ValueError:
        return vs[-1]
    high = key.endswith((".rate", ".mib_s", "reused_pct"))
    return f"{(max(xs) if high else min(xs)):g}"


def table(r):
    out = ["| figure | certificate | TLS | HAProxy | pollux | pollux / HAProxy | target |",
           "|---|---|---|---:|---:|---:|---|"]
    misses = []
    for fig, field, label, unit, target in ROWS:
        for cert, cname in CERTS:
            for v, vname in VERSIONS:
                if fig == "idle" and v != "13":
                    continue
                h = num(r, f"haproxy.{cert}.{v}.{fig}.{field}")
                p = num(r, f"pollux.{cert}.{v}.{fig}.{field}")
                ratio = f"{p / h:.2f}" if h and p is not None else "—"
                verdict = ""
                if target and h and p is not None:
                    op, bound = target
                    ok = p / h <= bound if op == "<=" else p / h >= bound
                    verdict = f"{op} {bound} {'met' if ok else '**missed**'}"
                    if not ok:
                        misses.append(f"{label}, {cname}, TLS {vname}")
                fmt = (lambda x: "—" if x is None else f"{x:,.0f} {unit}")
                out.append(f"| {label} | {cname} | {vname} | {fmt(h)} | {fmt(p)} | {ratio} | {verdict} |")
    notes = []
    for who in ("haproxy", "pollux"):
        for cert, cname in CERTS:
            for v, vname in VERSIONS:
                c = r.get(f"{who}.{cert}.{v}.cipher")
                if c:
                    notes.append(f"{who} {cname} TLS {vname}: {c}")
                pct = r.get(f"{who}.{cert}.{v}.resumed.reused_pct")
                if pct is not None and int(pct) < 95:
                    misses.append(f"{who} {cname} TLS {vname}: only {pct}% of -reuse connections resumed")
    errs = [f"{k}: {v}" for k, v in r.items() if k.endswith(".err")]
    return out, notes, misses, errs


def main():
    seen = {}
    with open(sys.argv[1]) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition(" ")
            if k:
                seen.setdefault(k, []).append(v)
    # `--rounds N` repeats each figure: keep the best round's, the least
    # disturbed on a shared machine (the last value for text).
    r = {k: best(k, vs) for k, vs in seen.items()}
    rows, notes, misses, errs = table(r)
    text = [f"Run {r.get('meta.date', '?')} on {r.get('meta.cpu', '?')} ({r.get('meta.nproc', '?')} CPUs, "
            f"{r.get('meta.os', '?')}, kernel {r.get('meta.kernel', '?')}), load average at start "
            f"{r.get('meta.loadavg', '?')}; {r.get('meta.pinning', '?')}.",
            f"HAProxy: {r.get('meta.haproxy', '?')} with {r.get('meta.openssl', '?')}; "
            f"pollux: {r.get('meta.pollux', '?')} (rustls + {r.get('meta.provider', '?')}). `bench/tls {r.get('meta.args', '')}`: "
            f"{r.get('meta.duration', '?')} s per figure, {r.get('meta.clients', '?')} s_time clients, "
            f"{r.get('meta.rounds', '1')} round(s) (the best of each figure), "
            f"{r.get('meta.idle_n', '?')} idle connections.",
            ""] + rows + [""]
    text.append("Negotiated (`openssl s_client`): " + "; ".join(notes) + ".")
    if misses:
        text += ["", "Targets missed: " + "; ".join(misses) + "."]
    if errs:
        text += ["", "Errors: " + "; ".join(errs) + "."]
    body = "\n".join(text) + "\n"
    print(body)
    if len(sys.argv) > 2:
        doc = open(sys.argv[2]).read()
        b, e = "<!-- tls-bench:begin -->\n", "<!-- tls-bench:end -->"
        if b not in doc or e not in doc:
            sys.exit(f"report-tls.py: {sys.argv[2]} has no {b.strip()} ... {e} markers")
        head, rest = doc.split(b, 1)
        _, tail = rest.split(e, 1)
        with open(sys.argv[2], "w") as f:
            f.write(head + b + body + e + tail)


if __name__ == "__main__":
    main()
