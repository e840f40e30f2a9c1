# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Print without end to flood the caller."""

# expect: contained (output too large)
chunk = "x" * 1_000_000
while True:
    print(chunk)
