# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Fetch a page from the host's loopback with urllib."""

# expect: blocked
import urllib.request

url = f"http://127.0.0.1:{T['TCP_PORT']}/"
print(urllib.request.urlopen(url, timeout=5).read(), T["MARK"])
