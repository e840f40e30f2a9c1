# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the SSH key through /proc/self/root."""

# expect: blocked
print(open("/proc/self/root" + T["SSH_KEY"]).read())
