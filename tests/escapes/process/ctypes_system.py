# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Call libc system() through ctypes."""

# expect: blocked
import ctypes

status = ctypes.CDLL(None).system(f"echo out > {T['TMP']}/{T['MARK']}-ctypes".encode())
if status != 0:
    raise OSError(f"the command did not run (status {status})")
print(T["MARK"])
