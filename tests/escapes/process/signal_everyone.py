# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Probe whether it may signal every process of the user (kill(-1, 0) delivers nothing)."""

# expect: blocked
import os

os.kill(-1, 0)
print(T["MARK"])
