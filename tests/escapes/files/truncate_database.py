# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Empty the conversation database with os.truncate."""

# expect: blocked
import os

os.truncate(T["DB"], 0)
print(T["MARK"])
