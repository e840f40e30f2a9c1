# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Send a UDP datagram to a listener on the host's loopback."""

# expect: blocked
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"exfiltrated", ("127.0.0.1", T["UDP_PORT"]))
print(T["MARK"])
