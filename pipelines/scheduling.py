"""Who gets the CPU first. The listening stage must keep up with the microphone in real
time (or barge-in and endpoints come late); recognising, generating and synthesising can
wait a few milliseconds. So the heavy work runs at a lower priority (a higher nice value):
the worker threads lower their own, and the thread pools that native libraries start when a
model loads or first runs (ONNX Runtime's, CTranslate2's), which do the actual computing,
are lowered as they appear. Linux schedules threads separately; elsewhere this does
nothing."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_log = logging.getLogger(__name__)

RECOGNITION = 2  # speech recognition: the user waits for it, but listening comes first
SOON = 3  # speech synthesis: ahead of playback by seconds, but not by minutes
BACKGROUND = 6  # language model, summaries

_LINUX = sys.platform.startswith("linux")


def lower_this_thread(niceness: int) -> None:
    """Raise the calling thread's nice value by ``niceness``. Never fails the caller."""
    if _LINUX:
        _lower(threading.get_native_id(), niceness)


@contextmanager
def new_threads_lowered(niceness: int) -> Iterator[None]:
    """Threads started while the block runs (a native library's worker pool, created as a
    model loads or first runs) get ``niceness`` lower priority. Threads that other code
    starts at the same moment are lowered too, so wrap loading and warming up, not
    everyday calls."""
    before = _thread_ids()
    try:
        yield
    finally:
        for tid in _thread_ids() - before:
            _lower(tid, niceness)


def _thread_ids() -> set[int]:
    if not _LINUX:
        return set()
    try:
        return {int(tid) for tid in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def _lower(tid: int, niceness: int) -> None:
    if niceness <= 0:
        return
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))
    except OSError as exc:  # it ended already, or a sandbox forbids it: normal priority
        _log.debug("could not lower the priority of thread %s: %s", tid, exc)
