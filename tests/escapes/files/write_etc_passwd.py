# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Open /etc/passwd for writing (nothing is written: opening is the escape)."""

# expect: blocked
with open("/etc/passwd", "a"):
    print(T["MARK"])
