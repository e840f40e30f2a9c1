# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Sleep without end (no CPU used, so only the wall clock can stop it)."""

# expect: contained (timeout)
import time

time.sleep(10**6)
