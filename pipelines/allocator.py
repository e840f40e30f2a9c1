"""How the C allocator gives freed memory back to the system, set once at start-up.

glibc keeps freed memory for reuse. By default, once a large buffer has been freed it serves
buffers up to that size (up to 32 MB) from its heap instead of mappings of their own, and
gives threads arenas of their own; freed heap memory between live objects cannot be given
back. With buffers of megabytes (audio, images, model outputs) made and freed by several
threads, a long-running app kept hundreds of megabytes it no longer used. Fixed settings
instead: buffers of 1 MB and more get a mapping of their own, returned as they are freed;
free memory at the heap's top beyond 4 MB is returned; at most four arenas.
"""

from __future__ import annotations

import ctypes
import logging

_log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1  # (glibc's malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
OWN_MAPPING_FROM = 1 << 20
TRIM_ABOVE = 4 << 20
ARENAS = 4


def return_freed_memory_promptly() -> bool:
    """Apply the settings above; False where the C library is not glibc (others have
    policies of their own) or refused one."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    applied = all(
        mallopt(option, value) == 1
        for option, value in (
            (M_MMAP_THRESHOLD, OWN_MAPPING_FROM),
            (M_TRIM_THRESHOLD, TRIM_ABOVE),
            (M_ARENA_MAX, ARENAS),
        )
    )
    if not applied:
        _log.warning("the C library refused a memory setting; freed memory may be kept")
    return applied
