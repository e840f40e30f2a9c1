"""The playback stage: phrases of speech → an output device (or a recording, headless).

Phrases wait in a queue; the audio callback plays them in order, gated per turn (a reply
prepared speculatively stays silent until its turn is confirmed). ``flush`` silences
everything within one audio block. What was played is also handed out as the echo
canceller's reference, and per-phrase progress tells how much of a reply was heard.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import soxr

from .devices import Reconnector, close_stream, device_moment, open_stream
from .files import SPEECH_RATE

BLOCK_S = 0.02


@dataclass
class Phrase:
    """A phrase of a reply, as audio at the device rate."""

    turn_id: int
    index: int
    text: str
    samples: np.ndarray
    played: int = 0
    started_at: float | None = None  # time.monotonic() of its first sample in a callback

    @property
    def done(self) -> bool:
        return self.played >= self.samples.size


@dataclass(frozen=True)
class PlaybackNote:
    """Sent from the audio callback to the notifier thread."""

    kind: str  # "started" or "finished"
    phrase: Phrase
    at: float = field(default_factory=time.monotonic)


class Speaker:
    """Plays phrases on a device. Thread-safe ``enqueue``/``release``/``flush``."""

    STALL_S = 1.5

    def __init__(
        self,
        device: str | None = None,
        *,
        source_rate: int,
        on_reference: Callable[[np.ndarray, float | None], None] | None = None,
        on_problem: Callable[[str, str], None] | None = None,
        on_recovered: Callable[[str], None] | None = None,
    ):
        self.device = device or "default"
        self.source_rate = source_rate
        self.rate = source_rate
        self.on_reference = on_reference
        self.on_problem = on_problem
        self.on_recovered = on_recovered
        self.notes: queue.Queue[PlaybackNote] = queue.Queue()
        self._pending: deque[Phrase] = deque()
        self._released: set[int] = set()
        self._current: Phrase | None = None
        self._lock = threading.Lock()
        self._stream = None
        self._last_callback = 0.0
        self._reconnect = Reconnector(
            "output-device-lost",
            f"the speaker '{self.device}' stopped playing; retrying until it is back",
        )
        self._to16k: StampedResampler | None = None
        self._paused = False

    # control (any thread) ---------------------------------------------------------------
    def start(self) -> None:
        stream, rate = open_stream(
            self.device,
            is_input=False,
            rate=self.source_rate,
            blocksize=int(BLOCK_S * self.source_rate),
            callback=self._callback,
        )
        self.rate = rate
        self._to16k = StampedResampler(rate)
        stream.start()
        self._stream = stream
        self._last_callback = time.monotonic()

    def stop(self) -> None:
        close_stream(self._stream)
        self._stream = None

    def to_device_rate(self, samples: np.ndarray) -> np.ndarray:
        if self.rate == self.source_rate:
            return samples.astype(np.float32, copy=False)
        return soxr.resample(samples, self.source_rate, self.rate).astype(np.float32)

    def enqueue(self, phrase: Phrase) -> None:
        with self._lock:
            self._pending.append(phrase)

    def release(self, turn_id: int) -> None:
        """Let the phrases of a confirmed turn play."""
        with self._lock:
            self._released.add(turn_id)

    def flush(self, turn_id: int | None = None) -> list[Phrase]:
        """Silence and drop the phrases of ``turn_id`` (all if None); returns them, with
        how much of each was played."""
        with self._lock:
            dropped: list[Phrase] = []
            if self._current is not None and turn_id in (None, self._current.turn_id):
                dropped.append(self._current)
                self._current = None
            keep: deque[Phrase] = deque()
            for phrase in self._pending:
                (dropped if turn_id in (None, phrase.turn_id) else keep).append(phrase)
            self._pending = keep
            if turn_id is None:
                self._released.clear()
            else:
                self._released.discard(turn_id)
        return dropped

    def pause(self) -> None:
        """Hold playback where it is (silence from the next block), e.g. when the user may
        be starting to talk; ``resume`` continues from the same sample."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    @property
    def busy(self) -> bool:
        """True while a released phrase is playing or waiting to play."""
        with self._lock:
            if self._current is not None:
                return True
            return any(p.turn_id in self._released for p in self._pending)

    # audio thread -----------------------------------------------------------------------
    def _next_phrase(self) -> Phrase | None:
        for i, phrase in enumerate(self._pending):
            if phrase.turn_id in self._released:
                del self._pending[i]
                return phrase
            break  # keep order: never skip ahead of a held phrase
        return None

    def _fill(self, out: np.ndarray, heard_at: float | None = None) -> None:
        """Write the next ``out.size`` samples (the callback's work; also used headless)."""
        now = time.monotonic()
        self._last_callback = now
        written = 0
        with self._lock:
            while written < out.size and not self._paused:
                if self._current is None:
                    self._current = self._next_phrase()
                    if self._current is None:
                        break
                phrase = self._current
                if phrase.played == 0:  # when it is heard, where the device says
                    phrase.started_at = (heard_at or now) + written / self.rate
                    self.notes.put_nowait(PlaybackNote("started", phrase, phrase.started_at))
                n = min(out.size - written, phrase.samples.size - phrase.played)
                out[written : written + n] = phrase.samples[phrase.played : phrase.played + n]
                phrase.played += n
                written += n
                if phrase.done:
                    self.notes.put_nowait(PlaybackNote("finished", phrase))
                    self._current = None
        out[written:] = 0.0
        if self.on_reference is not None and self._to16k is not None:
            reference, at = self._to16k.resample(out.copy(), heard_at or now)
            if reference.size:
                self.on_reference(reference, at)

    def _callback(self, outdata, frames, time_info, status) -> None:
        self._fill(outdata[:, 0], device_moment(time_info, is_input=False))

    def watchdog(self) -> None:
        """Called periodically: notice a vanished device and reopen it when it is back."""
        now = time.monotonic()
        alive = (
            self._stream is not None
            and self._stream.active
            and (now - self._last_callback < self.STALL_S)
        )

        def close() -> None:
            self.stop()
            self.flush()

        self._reconnect.check(
            alive,
            close=close,
            reopen=self.start,
            on_problem=self.on_problem,
            on_recovered=self.on_recovered,
            device=self.device,
        )


class StampedResampler:
    """What the speaker plays, at the canceller's rate, with the moment each piece is heard.

    soxr gives its output in bursts of a few dozen milliseconds, behind its input: stamped
    with the moment of the block that released it, a burst would be dated up to a block or
    two late (the echo would seem to come before the sound), and its uneven sizes would
    look like the device running dry. The moment is told by the samples' place in the
    stream instead."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._stream = soxr.ResampleStream(rate, SPEECH_RATE, 1, dtype="float32")
        self._fed = 0  # samples at ``rate`` given to the resampler
        self._given = 0  # samples at SPEECH_RATE it gave back

    def resample(self, block: np.ndarray, heard_at: float) -> tuple[np.ndarray, float]:
        """``block`` (heard from ``heard_at``) at SPEECH_RATE, as far as the resampler has
        it, and the moment the first sample returned is heard."""
        out = self._stream.resample_chunk(block)
        # (the samples returned start where the stream was _given / SPEECH_RATE s in;
        # the block starts _fed / rate s in)
        at = heard_at - (self._fed / self.rate - self._given / SPEECH_RATE)
        self._fed += block.size
        self._given += out.size
        return out, at


class RecordingSpeaker(Speaker):
    """A speaker for headless runs: plays in real time into memory, on the same timeline
    as a FileMicrophone started at the same moment."""

    def __init__(self, *, source_rate: int, on_reference=None):
        super().__init__("recording", source_rate=source_rate, on_reference=on_reference)
        self.recording: list[np.ndarray] = []
        self._thread: threading.Thread | None = None
        self._running = threading.Event()

    def start(self) -> None:
        self.rate = self.source_rate
        self._to16k = StampedResampler(self.rate)
        self._running.set()
        self._thread = threading.Thread(target=self._clock, name="recording-speaker", daemon=True)
        self._thread.start()

    def _clock(self) -> None:
        block = int(BLOCK_S * self.rate)
        t0 = time.monotonic()
        n = 0
        while self._running.is_set():
            buf = np.zeros(block, dtype=np.float32)
            self._fill(buf)
            self.recording.append(buf)
            n += 1
            delay = t0 + n * BLOCK_S - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def stop(self) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def watchdog(self) -> None:
        return

    def audio(self) -> np.ndarray:
        return np.concatenate(self.recording) if self.recording else np.zeros(0, np.float32)
