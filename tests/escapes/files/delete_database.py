# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Delete the conversation database."""

# expect: blocked
import os

os.remove(T["DB"])
print(T["MARK"])
