# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Spin forever."""

# expect: contained (cpu or timeout)
while True:
    pass
