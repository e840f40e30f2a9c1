# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Write a file in the shared /tmp (where other programs, and other sandboxes, keep files)."""

# expect: blocked
with open(f"{T['TMP']}/{T['MARK']}-note.txt", "w") as f:
    f.write("left behind")
