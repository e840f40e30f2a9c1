# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Connect to a Unix socket file on the host (as the D-Bus session bus listens)."""

# expect: blocked
import socket

s = socket.socket(socket.AF_UNIX)
s.connect(T["UNIX_PATH"])
print(T["MARK"])
