# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Write to stderr without end, so even the error report cannot be written."""

# expect: contained (output too large)
import sys

chunk = "x" * 1_000_000
while True:
    sys.stderr.write(chunk)
