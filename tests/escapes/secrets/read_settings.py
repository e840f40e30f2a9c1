# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the app's settings file."""

# expect: blocked
print(open(T["SETTINGS"]).read())
