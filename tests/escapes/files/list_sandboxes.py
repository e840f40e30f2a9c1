# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""List /tmp to find other runs' working folders."""

# expect: blocked
import os

print([n for n in os.listdir(T["TMP"]) if "sandbox" in n], T["MARK"])
