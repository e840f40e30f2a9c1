"""Who gets the CPU first. The listening stage must keep up with the microphone in real
time (or barge-in and endpoints come late); generating and synthesising can wait a few
milliseconds. So the heavy worker threads lower their own priority; the threads they start
(llama.cpp's workers) inherit it."""

from __future__ import annotations

import logging
import os
import sys
import threading

_log = logging.getLogger(__name__)

BACKGROUND = 4  # language model, summaries (mild: other programs must not starve it)
SOON = 2  # speech synthesis: ahead of playback by seconds, but not by minutes


def lower_this_thread(niceness: int) -> None:
    """Raise the calling thread's nice value by ``niceness`` (Linux schedules threads
    separately; elsewhere this does nothing). Never fails the caller."""
    if not sys.platform.startswith("linux") or niceness <= 0:
        return
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + niceness))
    except OSError as exc:  # e.g. a sandbox that forbids it: run at normal priority
        _log.debug("could not lower thread priority: %s", exc)
