# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the C library's environ array directly."""

# expect: contained (finished)
import ctypes

environ = ctypes.POINTER(ctypes.c_char_p).in_dll(ctypes.CDLL(None), "environ")
n = 0
while environ[n]:
    print(environ[n])
    n += 1
