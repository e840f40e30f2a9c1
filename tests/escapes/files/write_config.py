# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Overwrite the app's tool permissions."""

# expect: blocked
import json

with open(T["PERMISSIONS"], "w") as f:
    json.dump({"assistant": {"python": "allow"}}, f)
print(T["MARK"])
