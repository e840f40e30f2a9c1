"""The capture stage: a microphone (or a WAV file played as if live) → 16 kHz blocks.

The audio callback only copies the block into a queue; everything else happens on the
reader's thread. A device that stops delivering is reported and reopened until it is back.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass

import numpy as np
import soxr

from .devices import Reconnector, close_stream, device_moment, open_stream
from .files import SPEECH_RATE, load_audio

BLOCK = 320  # 20 ms at 16 kHz


@dataclass(frozen=True)
class MicBlock:
    """16 kHz mono audio; ``start_s`` is its position on the input timeline."""

    samples: np.ndarray
    start_s: float
    arrived: float  # time.monotonic() when it reached us
    captured: float  # time.monotonic() when its first sample was captured


class Microphone:
    """Live capture from an input device, resampled to 16 kHz."""

    STALL_S = 1.5  # no audio for this long means the device is gone

    def __init__(self, device: str | None = None, *, on_problem=None, on_recovered=None):
        self.device = device or "default"
        self._queue: queue.Queue[tuple[np.ndarray, float, float]] = queue.Queue(maxsize=1000)
        self._stream = None
        self._resampler: soxr.ResampleStream | None = None
        self._stream_rate = SPEECH_RATE
        self._position = 0
        self._last_block = 0.0
        self._lock = threading.Lock()
        self.dropped_blocks = 0
        self.on_problem = on_problem  # called with (code, message)
        self.on_recovered = on_recovered
        self._reconnect = Reconnector(
            "input-device-lost",
            f"the microphone '{self.device}' stopped delivering audio; retrying until it is back",
        )

    # audio thread ----------------------------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        try:
            now = time.monotonic()
            captured = device_moment(time_info, is_input=True)
            if captured is None:  # no converter time: the block just ended
                captured = now - frames / self._stream_rate
            self._queue.put_nowait((indata[:, 0].copy(), now, captured))
        except queue.Full:
            self.dropped_blocks += 1

    # reader thread ---------------------------------------------------------------------
    def start(self) -> None:
        """Open the device. Raises AudioDeviceError if it cannot be opened now."""
        with self._lock:
            stream, rate = open_stream(
                self.device,
                is_input=True,
                rate=SPEECH_RATE,
                blocksize=BLOCK,
                callback=self._callback,
            )
            self._stream_rate = rate
            self._resampler = (
                soxr.ResampleStream(rate, SPEECH_RATE, 1, dtype="float32", quality="HQ")
                if rate != SPEECH_RATE
                else None
            )
            stream.start()
            self._stream = stream
            self._last_block = time.monotonic()

    def stop(self) -> None:
        with self._lock:
            close_stream(self._stream)
            self._stream = None

    def read(self, timeout: float = 0.1) -> MicBlock | None:
        """The next block, or None if nothing arrived within ``timeout``."""
        try:
            raw, arrived, captured = self._queue.get(timeout=timeout)
        except queue.Empty:
            self._watchdog()
            return None
        self._last_block = time.monotonic()
        samples = self._resampler.resample_chunk(raw) if self._resampler else raw
        block = MicBlock(
            samples.astype(np.float32, copy=False), self._position / SPEECH_RATE, arrived, captured
        )
        self._position += samples.size
        return block

    def _watchdog(self) -> None:
        now = time.monotonic()
        alive = (
            self._stream is not None
            and self._stream.active
            and now - self._last_block <= self.STALL_S
        )
        self._reconnect.check(
            alive,
            close=self.stop,
            reopen=self.start,
            on_problem=self.on_problem,
            on_recovered=self.on_recovered,
            device=self.device,
        )


class FileMicrophone:
    """Plays a WAV file into the loop in real time, as if spoken into a microphone,
    followed by ``tail_s`` of silence."""

    def __init__(self, path, *, tail_s: float = 3.0, speed: float = 1.0):
        audio = load_audio(path)
        self.audio = np.concatenate([audio, np.zeros(int(tail_s * SPEECH_RATE), np.float32)])
        self.device = f"file:{path}"
        self.speed = speed
        self._position = 0
        self._t0 = 0.0
        self.finished = threading.Event()

    def start(self) -> None:
        self._t0 = time.monotonic()

    def stop(self) -> None:
        self.finished.set()

    def read(self, timeout: float = 0.1) -> MicBlock | None:
        if self._position >= self.audio.size:
            self.finished.set()
            time.sleep(timeout)
            return None
        due = self._t0 + (self._position + BLOCK) / SPEECH_RATE / self.speed
        wait = due - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return None
        if wait > 0:
            time.sleep(wait)
        samples = self.audio[self._position : self._position + BLOCK]
        now = time.monotonic()
        block = MicBlock(
            samples, self._position / SPEECH_RATE, now, now - samples.size / SPEECH_RATE
        )
        self._position += samples.size
        return block
