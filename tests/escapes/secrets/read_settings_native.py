# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Read the app's settings through libc open() found by symbol version."""

# expect: blocked
import ctypes

libc = ctypes.CDLL(None, use_errno=True)
libc.dlvsym.restype = ctypes.c_void_p
libc.dlvsym.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p)


def native(name, restype, *argtypes):
    """A C function found by symbol version (dlvsym): past any check on looked-up names."""
    for version in (b"GLIBC_2.2.5", b"GLIBC_2.17", b"GLIBC_2.34"):
        address = libc.dlvsym(libc._handle, name.encode(), version)
        if address:
            return ctypes.CFUNCTYPE(restype, *argtypes, use_errno=True)(address)
    raise OSError(f"{name} not found")


def check(result, what):
    if result < 0:
        raise OSError(ctypes.get_errno(), f"{what} failed")
    return result


import os

fd = check(
    native("open", ctypes.c_int, ctypes.c_char_p, ctypes.c_int)(
        T["SETTINGS"].encode(), os.O_RDONLY
    ),
    "open",
)
print(os.read(fd, 65536))
