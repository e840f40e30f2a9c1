"""The settings dialog's "Test" buttons: record a moment from a microphone and report its
level; play a short chime on a speaker."""

from __future__ import annotations

import threading

import numpy as np

from .devices import close_stream, open_stream

TEST_RATE = 16_000


def measure_input(device: str | None, seconds: float = 1.5) -> float:
    """Record from ``device`` and return the loudest 100 ms block's level in dBFS.
    Raises AudioDeviceError if the device is missing or refuses."""
    blocks: list[np.ndarray] = []
    done = threading.Event()
    wanted = int(seconds * TEST_RATE)

    def take(indata, frames, time, status) -> None:
        blocks.append(indata[:, 0].copy())
        if sum(b.size for b in blocks) >= wanted:
            done.set()

    stream, rate = open_stream(
        device, is_input=True, rate=TEST_RATE, blocksize=TEST_RATE // 10, callback=take
    )
    try:
        stream.start()
        done.wait(seconds + 3.0)
    finally:
        close_stream(stream)
    if not blocks:
        return -120.0
    audio = np.concatenate(blocks)
    block = max(1, rate // 10)
    levels = [
        float(np.sqrt(np.mean(audio[i : i + block] ** 2)) + 1e-10)
        for i in range(0, audio.size, block)
    ]
    return 20 * float(np.log10(max(levels)))


def chime(rate: int, seconds: float = 0.6) -> np.ndarray:
    """A soft two-note chime with fade in/out (mono float32)."""
    t = np.arange(int(rate * seconds)) / rate
    half = t.size // 2
    freq = np.where(np.arange(t.size) < half, 660.0, 880.0)
    tone = 0.2 * np.sin(2 * np.pi * freq * t)
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.05)
    return (tone * fade).astype(np.float32)


def play_chime(device: str | None) -> None:
    """Play the chime on ``device`` (blocking, about a second)."""
    play(device, chime(TEST_RATE), TEST_RATE)


def play(device: str | None, audio: np.ndarray, rate: int) -> None:
    """Play mono float32 ``audio`` at ``rate`` on ``device`` and return when it has been
    played (a chime, or an announcement while the voice loop is closed). Raises
    AudioDeviceError if the device is missing or refuses."""
    import soxr

    position = 0
    done = threading.Event()
    samples: np.ndarray | None = None

    def feed(outdata, frames, time, status) -> None:
        nonlocal position
        chunk = samples[position : position + frames]
        outdata[: chunk.size, 0] = chunk
        outdata[chunk.size :, 0] = 0.0
        position += frames
        if position >= samples.size:
            done.set()

    stream, actual = open_stream(
        device,
        is_input=False,
        rate=rate,
        blocksize=1024 if rate <= 16_000 else 2048,
        callback=feed,
    )
    samples = np.asarray(audio, dtype=np.float32)
    if actual != rate:
        samples = soxr.resample(samples, rate, actual).astype(np.float32)
    try:
        stream.start()
        done.wait(samples.size / actual + 3.0)
    finally:
        close_stream(stream)
