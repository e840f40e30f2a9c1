# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Connect to an abstract Unix socket on the host (as the X server and session services listen)."""

# expect: blocked
import socket

s = socket.socket(socket.AF_UNIX)
s.connect("\0" + T["UNIX_ABSTRACT"])
print(T["MARK"])
