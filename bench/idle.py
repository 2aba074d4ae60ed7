#!/usr/bin/env python3
"""Memory per idle proxied connection.

idle.py PROXY_PID FRONT_PORT BACK_PORT N [DEADLINE_SECS]

Opens N plain TCP connections to 127.0.0.1:FRONT_PORT and sends nothing, waits
until the proxy has N established connections of its own to BACK_PORT (read from
/proc/net/tcp, so a proxy that accepts but never connects is caught), then reads
the proxy's VmRSS again. Prints one line:

    n=N rss_before_kb=A rss_after_kb=B bytes_per_conn=C backend_conns=M

Exits 1 if the N connections are not all proxied before the deadline.
"""
import resource
import socket
import sys
import time


def vmrss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def established_to(port):
    """Established sockets whose remote port is `port`: the proxy's server side."""
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    # fields[2] = rem_address "HEXIP:HEXPORT", fields[3] = state (01 = ESTABLISHED)
                    if fields[3] == "01" and int(fields[2].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except FileNotFoundError:
            pass
    return n


def main():
    pid, front, back, n = (int(a) for a in sys.argv[1:5])
    deadline = time.monotonic() + (float(sys.argv[5]) if len(sys.argv) > 5 else 60.0)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < n + 64:
        sys.exit(f"idle.py: RLIMIT_NOFILE hard limit {hard} is too low for {n} connections")

    # Warm up: one connection through, so lazily built state is already there.
    with socket.create_connection(("127.0.0.1", front), timeout=5):
        time.sleep(0.2)
    time.sleep(0.5)
    base = established_to(back)
    before = vmrss_kb(pid)

    socks = []
    try:
        for _ in range(n):
            if time.monotonic() > deadline:
                break
            s = socket.create_connection(("127.0.0.1", front), timeout=10)
            socks.append(s)
        seen = 0
        while time.monotonic() < deadline:
            seen = established_to(back) - base
            if seen >= n:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # let the proxy settle after the last accept
        after = vmrss_kb(pid)
        seen = established_to(back) - base
        per = (after - before) * 1024 / max(len(socks), 1)
        print(f"n={len(socks)} rss_before_kb={before} rss_after_kb={after} "
              f"bytes_per_conn={per:.0f} backend_conns={seen}")
        if len(socks) < n or seen < n:
            print(f"idle.py: only {len(socks)} opened / {seen} proxied of {n} before the deadline",
                  file=sys.stderr)
            return 1
        return 0
    finally:
        for s in socks:
            s.close()


if __name__ == "__main__":
    sys.exit(main())
