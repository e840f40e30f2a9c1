# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Resolve a host name (getaddrinfo)."""

# expect: blocked
import socket

print(socket.getaddrinfo("localhost", 80), T["MARK"])
