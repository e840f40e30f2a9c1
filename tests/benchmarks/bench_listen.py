"""What the listening stage costs per second of microphone audio (CPU seconds, on the
calling thread): the echo canceller, the two VADs and the echo checks, as the listening loop
runs them, while the speaker is silent and while the assistant talks through speakers. The
stage must stay far below one CPU second per audio second, with room to spare on a busy
machine, or everything it decides (turn ends, barge-in) comes late."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tests.benchmarks.stats import print_table, summary

SECONDS = 10.0


def _listen(speaking: bool, seed: int) -> dict[str, float]:
    """CPU seconds per audio second of each part, for ``SECONDS`` of audio."""
    from vistavox.pipelines.audio.echo import RATE, EchoCanceller
    from vistavox.pipelines.speech.endpoint import FRAME, StreamingVad

    rng = np.random.default_rng(seed)
    n = int(SECONDS * RATE)
    voice = (rng.normal(0, 0.1, n) * np.sin(np.arange(n) / 900.0) ** 2).astype(np.float32)
    t0 = time.monotonic() - 2 * SECONDS  # a past timeline: no frame waits for its reference
    canceller = EchoCanceller()
    canceller.add_reference(voice if speaking else np.zeros(n, np.float32), t0)
    room = np.concatenate([np.zeros(640, np.float32), voice])[:n] * 0.3
    mic = (room if speaking else np.zeros(n, np.float32)) + rng.normal(0, 1e-3, n).astype(
        np.float32
    )
    vad, raw_vad = StreamingVad(), StreamingVad()
    spent = {"canceller": 0.0, "vad": 0.0, "echo checks": 0.0}

    def timed(part: str, fn, *args):
        start = time.thread_time()
        result = fn(*args)
        spent[part] += time.thread_time() - start
        return result

    pending = np.zeros(0, np.float32)
    block = RATE // 50  # 20 ms, as the microphone delivers it
    for i in range(0, n, block):
        pending = np.concatenate(
            [pending, timed("canceller", canceller.process, mic[i : i + block], t0 + i / RATE)]
        )
        audible = timed("echo checks", canceller.reference_level_db) > -50.0
        while pending.size >= FRAME:
            frame, pending = pending[:FRAME], pending[FRAME:]
            if audible:
                timed("vad", vad, frame)
                timed("vad", raw_vad, frame)
                timed("echo checks", canceller.learn_echo_path)
                timed("echo checks", canceller.echo_likelihood)
                timed("echo checks", canceller.only_echo)
            else:
                timed("vad", raw_vad, frame)
                vad.follow(raw_vad)
    return {part: s / SECONDS for part, s in spent.items()}


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    rows, result = [], {}
    for case, speaking in (("speaker silent", False), ("assistant talking", True)):
        runs = [_listen(speaking, seed) for seed in range(max(1, repeat))]
        parts = {part: summary([r[part] for r in runs]) for part in runs[0]}
        total = summary([sum(r.values()) for r in runs])
        result[case] = {"parts_cpu_s_per_audio_s": parts, "total_cpu_s_per_audio_s": total}
        rows.append(
            {
                "case": case,
                **{part: stats["median"] for part, stats in parts.items()},
                "total": total["median"],
                "total p95": total["p95"],
            }
        )
    print("CPU seconds per second of audio (median over runs)")
    print_table(rows, ["case", "canceller", "vad", "echo checks", "total", "total p95"])
    return result
