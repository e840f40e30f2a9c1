"""Landlock: a process gives up, for good, every file access outside the folders it names.

Linux's Landlock (5.13+) needs no privileges and holds against native code: the kernel checks
each open, create, rename, link and delete against the rules, whatever path or trick
(``..``, links, ``/proc/self/root``, a folder descriptor) led there. Newer kernels also let
it refuse TCP connections and binds (ABI 4, Linux 6.7) and signals or abstract Unix sockets
reaching outside the sandbox (ABI 6, Linux 6.12). Each right is used where the running
kernel has it (the "best effort" the Landlock documentation recommends).

A small ctypes binding: the PyPI ``landlock`` package (alpha) knows only file rights.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# File rights (ABI 1), then REFER (2), TRUNCATE (3), IOCTL_DEV (5).
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
MAKE_SYM, REFER, TRUNCATE, IOCTL_DEV = 1 << 12, 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
READ = READ_FILE | READ_DIR
WRITE_DEVICE = READ_FILE | WRITE_FILE
# Network (ABI 4): TCP bind and connect. Scopes (ABI 6): abstract Unix sockets, signals.
_NET_TCP = (1 << 0) | (1 << 1)
_SCOPES = (1 << 0) | (1 << 1)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def abi_version() -> int:
    """The Landlock ABI this kernel offers (0: none, or turned off at boot)."""
    version = _syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(version), 0)


def _fs_rights(abi: int) -> int:
    return _FS_BY_ABI[max(k for k in _FS_BY_ABI if k <= abi)]


def restrict_self(
    readable: Iterable[str], writable: Iterable[str], devices: Iterable[str] = ()
) -> list[str]:
    """Allow reading under ``readable``, everything under ``writable`` and reading/writing the
    ``devices`` files; refuse every other file access (and, where the kernel can, TCP and
    signals or abstract sockets leaving the sandbox) to this process and all it starts.

    Returns what was applied (empty when the kernel has no Landlock); raises OSError when
    Landlock is there but could not be applied.
    """
    abi = abi_version()
    if abi < 1:
        return []
    fs = _fs_rights(abi)
    attr = _RulesetAttr(fs, _NET_TCP if abi >= 4 else 0, _SCOPES if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, rights in ((readable, READ), (writable, fs), (devices, WRITE_DEVICE)):
            for path in dict.fromkeys(paths):
                _allow(ruleset, path, rights & fs)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if _syscall(_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
    applied = [f"landlock-files (ABI {abi})"]
    if abi >= 4:
        applied.append("landlock-tcp")
    if abi >= 6:
        applied.append("landlock-signals-and-abstract-sockets")
    return applied


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a folder this machine does not have
    try:
        if not os.path.isdir(path):
            rights &= _FILE_ONLY
        rule = _PathBeneathAttr(rights, fd)
        if _syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)
