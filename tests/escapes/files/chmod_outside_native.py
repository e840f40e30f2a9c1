# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Make the SSH key readable by everyone through libc chmod() found by symbol version (Landlock
does not cover mode changes; the kernel filter makes them do nothing)."""

# expect: contained (finished)
import ctypes
import os
import stat

libc = ctypes.CDLL(None, use_errno=True)
libc.dlvsym.restype = ctypes.c_void_p
libc.dlvsym.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p)
for version in (b"GLIBC_2.2.5", b"GLIBC_2.17"):
    address = libc.dlvsym(libc._handle, b"chmod", version)
    if address:
        chmod = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)(address)
        break
chmod(T["SSH_KEY"].encode(), 0o644)
if stat.S_IMODE(os.stat(T["SSH_KEY"]).st_mode) == 0o644:
    print(T["MARK"])
print("the key's mode is", oct(stat.S_IMODE(os.stat(T["SSH_KEY"]).st_mode)))
