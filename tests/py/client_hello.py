#!/usr/bin/env python3
"""Print (to stdout, binary) the TLS ClientHello that Python's ssl module sends
first: a real handshake record, for TCP-inspection tests (req.ssl_ver)."""
import ssl
import sys

ctx = ssl.create_default_context()
incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(incoming, outgoing, server_hostname="example.com")
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
sys.stdout.buffer.write(outgoing.read())
