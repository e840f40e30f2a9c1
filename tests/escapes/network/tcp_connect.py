# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Connect to the HTTP server the host runs on loopback (TCP) and fetch a page."""

# expect: blocked
import socket

with socket.create_connection(("127.0.0.1", T["TCP_PORT"]), timeout=5) as s:
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    print(s.recv(100), T["MARK"])
