# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Scan every process's environment in /proc for the secret's name."""

# expect: blocked
import os

for pid in os.listdir("/proc"):
    try:
        text = open(f"/proc/{pid}/environ", "rb").read()
    except OSError:
        continue
    if T["SECRET_ENV"].encode() in text:
        print(pid, text)
