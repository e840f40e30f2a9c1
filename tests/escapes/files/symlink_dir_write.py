# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Write the app's settings through a link to its config folder made in the working folder."""

# expect: blocked
import os

os.symlink(T["CONFIG_DIR"], "config")
with open("config/settings.json", "w") as f:
    f.write("{}")
print(T["MARK"])
