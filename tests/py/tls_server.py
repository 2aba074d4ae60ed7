#!/usr/bin/env python3
"""A TLS HTTP/1.1 server for the tests of TLS towards servers (OpenSSL through
Python's ssl module, so pollux's rustls client meets another implementation).

    tls_server.py CERT_PEM [--ca CA_PEM] [--state FILE]

CERT_PEM holds the certificate and its key. With --ca, a client certificate
signed by that CA is required. --state names a file read at each connection:
"up" (or no file) serves, "down" answers 503 to every request, "closed"
closes each connection before the TLS handshake.

Prints the port it listens on (127.0.0.1, chosen by the system) as its first
line, then one line per handshake that succeeded:
    hs resumed=0|1 sni=NAME|- cn=CLIENT_CN|- alpn=PROTO|- ver=TLSv1.3
and answers each request with a 200 whose body is the same line (sans "hs").
"""
import argparse
import socket
import ssl
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cert")
    ap.add_argument("--ca")
    ap.add_argument("--state")
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert)
    ctx.set_alpn_protocols(["http/1.1"])
    if a.ca:
        ctx.load_verify_locations(a.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    names = {}

    def on_sni(sock, name, _ctx):
        names[id(sock)] = name

    ctx.sni_callback = on_sni

    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    out = threading.Lock()

    def say(line):
        with out:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    say(str(lst.getsockname()[1]))

    def state():
        if not a.state:
            return "up"
        try:
            with open(a.state) as f:
                return f.read().strip() or "up"
        except OSError:
            return "up"

    def serve(raw):
        raw.settimeout(10)
        if state() == "closed":
            raw.close()
            return
        try:
            tls = ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        peer = tls.getpeercert()
        cn = "-"
        for rdn in (peer or {}).get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    cn = v
        facts = "resumed=%d sni=%s cn=%s alpn=%s ver=%s" % (
            tls.session_reused,
            names.pop(id(tls), None) or names.pop(id(raw), None) or "-",
            cn,
            tls.selected_alpn_protocol() or "-",
            tls.version(),
        )
        say("hs " + facts)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    got = tls.recv(65536)
                    if not got:
                        return
                    buf += got
                head, buf = buf.split(b"\r\n\r\n", 1)
                status = "503 Service Unavailable" if state() == "down" else "200 OK"
                body = (facts + "\n").encode()
                tls.sendall(
                    ("HTTP/1.1 %s\r\ncontent-length: %d\r\n\r\n" % (status, len(body))).encode()
                    + body
                )
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass

    while True:
        c, _ = lst.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
