"""Freed buffers of megabytes go back to the system (glibc's settings made at start-up), in
a fresh process with the real C allocator."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import ctypes, sys
def anon_mb():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon"):
            return int(line.split()[1]) / 1024
if sys.argv[1] == "set":
    from vistavox.pipelines.allocator import return_freed_memory_promptly
    assert return_freed_memory_promptly()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def touched(size):
    pointer = libc.malloc(size)
    ctypes.memset(pointer, 1, size)
    return pointer
libc.free(touched(16 << 20))  # a large buffer freed: glibc then serves such sizes from its heap
before = anon_mb()
buffers, kept = [], []
for _ in range(100):  # 2 MB buffers (audio, images) between smaller ones still in use
    buffers.append(touched(2 << 20))
    kept.append(touched(100_000))
for pointer in buffers:
    libc.free(pointer)
print(anon_mb() - before)
"""


def _kept_after_freeing(setting: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, setting], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_buffers_freed_between_live_ones_are_given_back_to_the_system():
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt  # noqa: B018 - glibc has it; musl does not
    except (OSError, AttributeError):
        pytest.skip("not glibc")
    assert _kept_after_freeing("default") > 150  # what the app kept before (200 MB freed)
    assert _kept_after_freeing("set") < 30  # the 100 kB buffers still in use: ~10 MB
