# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the SSH key by a path that climbs out of the working folder with '..'."""

# expect: blocked
print(open("../" * 40 + T["SSH_KEY"].lstrip("/")).read())
