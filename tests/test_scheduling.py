"""Heavy work yields to listening: the threads that do a model's computing run at a lower
priority than the listening stage (Linux, where threads are scheduled separately)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread priorities are a Linux feature"
)


def _cpu_by_thread() -> dict[int, tuple[int, int]]:
    """Thread id → (CPU ticks used so far, nice value), from /proc."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(tid)] = (int(fields[11]) + int(fields[12]), int(fields[16]))
    return out


def _work_by_nice(work) -> dict[int, int]:
    """CPU ticks that threads other than the caller used while ``work`` ran, by nice."""
    before = _cpu_by_thread()
    work()
    after = _cpu_by_thread()
    me = threading.get_native_id()
    used: dict[int, int] = {}
    for tid, (ticks, nice) in after.items():
        if tid != me:
            used[nice] = used.get(nice, 0) + ticks - before.get(tid, (0, 0))[0]
    return used


def test_threads_started_by_native_code_inside_the_block_are_lowered():
    from vistavox.pipelines.scheduling import new_threads_lowered

    go = threading.Event()
    worker = threading.Thread(target=go.wait)
    with new_threads_lowered(3):
        worker.start()
    try:
        assert (
            os.getpriority(os.PRIO_PROCESS, worker.native_id)
            == os.getpriority(os.PRIO_PROCESS, 0) + 3
        )
        # A thread started afterwards keeps normal priority.
        other = threading.Thread(target=go.wait)
        other.start()
        assert os.getpriority(os.PRIO_PROCESS, other.native_id) == os.getpriority(
            os.PRIO_PROCESS, 0
        )
    finally:
        go.set()


def test_speech_recognition_and_synthesis_compute_below_the_listening_priority(
    transcriber, synthesizer
):
    """The worker pools of Whisper (CTranslate2) and Piper (ONNX Runtime) do most of the
    computing; they must not compete with the listening stage on equal terms."""
    base = os.getpriority(os.PRIO_PROCESS, 0)
    speech = np.random.default_rng(0).normal(0, 0.05, 48_000).astype(np.float32)

    def recognise() -> None:
        for _ in range(3):
            transcriber.transcribe(speech)

    def speak() -> None:
        for _ in range(3):
            synthesizer.speak("The listening stage comes first, then everything else.")

    for work in (recognise, speak):
        used = _work_by_nice(work)
        total = sum(used.values())
        assert total > 0, "no worker thread did the computing"
        # (NumPy's own few threads, started at import, do a small part at normal priority.)
        lowered = sum(ticks for nice, ticks in used.items() if nice > base)
        assert lowered >= 0.8 * total, f"{work.__name__}: CPU ticks by nice value {used}"
