# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Run a program with subprocess."""

# expect: blocked
import subprocess

subprocess.run(["touch", f"{T['TMP']}/{T['MARK']}-subprocess"], check=True)
print(T["MARK"])
