# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Print its environment, looking for the app's secrets."""

# expect: contained (finished)
import os

print(dict(os.environ))
