# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the user's SSH private key."""

# expect: blocked
print(open(T["SSH_KEY"]).read())
