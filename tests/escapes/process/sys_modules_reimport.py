# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Drop os and subprocess from sys.modules, import fresh copies, and run a program."""

# expect: blocked
import sys

for name in [n for n in sys.modules if n.split(".")[0] in ("subprocess", "_posixsubprocess")]:
    del sys.modules[name]
import subprocess  # noqa: E402

subprocess.run(["touch", f"{T['TMP']}/{T['MARK']}-reimport"], check=True)
print(T["MARK"])
