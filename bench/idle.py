#!/usr/bin/env python3
"""Memory per idle proxied connection.

idle.py [--tls] PROXY_PID FRONT_PORT BACK_PORT N [DEADLINE_SECS]

Opens N plain TCP connections to 127.0.0.1:FRONT_PORT and sends nothing, waits
until the proxy has N established connections of its own to BACK_PORT (read from
/proc/net/tcp, so a proxy that accepts but never connects is caught), then reads
the proxy's VmRSS again. With --tls each connection first completes a TLS
handshake (no verification), and BACK_PORT 0 waits for no server connection
(an HTTP-mode proxy connects to a server only for a request). Prints one line:

    n=N rss_before_kb=A rss_after_kb=B bytes_per_conn=C backend_conns=M

Exits 1 if the N connections are not all proxied before the deadline.
"""
import resource
import socket
import ssl
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
    args = sys.argv[1:]
    tls = None
    if args and args[0] == "--tls":
        args = args[1:]
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    pid, front, back, n = (int(a) for a in args[:4])
    deadline = time.monotonic() + (float(args[4]) if len(args) > 4 else 60.0)

    def connect():
        s = socket.create_connection(("127.0.0.1", front), timeout=10)
        return tls.wrap_socket(s) if tls else s

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < n + 64:
        sys.exit(f"idle.py: RLIMIT_NOFILE hard limit {hard} is too low for {n} connections")

    # Warm up: one connection through, so lazily built state is already there.
    with connect():
        time.sleep(0.2)
    time.sleep(0.5)
    base = established_to(back)
    before = vmrss_kb(pid)

    socks = []
    try:
        for _ in range(n):
            if time.monotonic() > deadline:
                break
            socks.append(connect())
        seen = 0
        while back and time.monotonic() < deadline:
            seen = established_to(back) - base
            if seen >= n:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # let the proxy settle after the last accept
        after = vmrss_kb(pid)
        seen = established_to(back) - base if back else len(socks)
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
