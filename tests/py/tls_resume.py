#!/usr/bin/env python3
"""Resume a TLS session: one HTTPS request to PORT1 (its session kept),
a pause, then one to PORT2 offering that session. Prints 'reused' or 'new'
and the second answer's status line.

usage: tls_resume.py 1.2|1.3 PORT1 PORT2 [PAUSE_SECONDS]
"""
import socket
import ssl
import sys
import time

ver, p1, p2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if ver == "1.2":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
else:
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3


def get(port, session=None):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="a.test", session=session) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                try:
                    chunk = s.recv(4096)
                except (ssl.SSLEOFError, ConnectionResetError):
                    break
                if not chunk:
                    break
                data += chunk
            # TLS 1.3 tickets arrive after the handshake: read, then ask.
            return s.session, s.session_reused, data


session, _, _ = get(p1)
time.sleep(pause)
_, reused, data = get(p2, session)
print("reused" if reused else "new", data.split(b"\r\n")[0].decode(errors="replace"))
