# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Fetch a page from the host's loopback with http.client."""

# expect: blocked
import http.client

connection = http.client.HTTPConnection("127.0.0.1", T["TCP_PORT"], timeout=5)
connection.request("GET", "/")
print(connection.getresponse().read(), T["MARK"])
