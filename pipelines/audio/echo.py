"""Acoustic echo cancellation, so the assistant does not hear itself through speakers.

Uses WebRTC's audio processing module (AEC3, noise suppression, high-pass filter) through
the LiveKit Python SDK, which ships it prebuilt. The speaker's signal is the reference.

AEC3 needs the reference to lead its echo by a small, roughly constant delay. Both streams
are therefore put on sample clocks anchored to time.monotonic() at the moments the devices
report (a sample heard from the speaker, captured by the microphone), so an underrun or a
late callback does not move the echo: each microphone frame is paired with the reference
heard ``_LEAD_S`` after the frame was captured (a margin for clock error). A
microphone frame whose reference the speaker's callback has not produced yet waits for it
(briefly): pairing it with silence would let the echo through uncancelled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

import numpy as np

AEC_FRAME = 160  # WebRTC processes 10 ms frames; at 16 kHz that is 160 samples
RATE = 16_000
_RING_S = 30.0  # covers a listening stage that fell behind under load
_REANCHOR_S = 0.15  # a clock this far off its anchor means the stream restarted
_LATE_S = 0.03  # blocks this much later than their count says: the device ran dry (underrun)
_LEAD_S = 0.06  # the reference given with a microphone frame leads it by this much
_WAIT_S = 0.08  # longest a microphone frame waits for its reference
_ENVELOPE_FRAMES = 250
_EXCESS_FRAMES = 500  # the last 5 s of the assistant's voice at the microphone
_MAX_ECHO_LAG = 150  # echo paths up to 1.5 s (Bluetooth speakers, busy audio servers)
_AUDIBLE_LOG_POWER = -6.0  # reference frames quieter than this (-60 dBFS) are silence
_USER_MARGIN = 0.6  # the user is this much (6 dB) above the loudest echo seen
_HEARD_EXCESS = -4.0  # echo within 40 dB of what the speaker plays: an echo path exists
_KNOWN_FRAMES = 50  # half a second of the assistant's voice tells whether it comes back
_NO_PATH_FRAMES = 300
_UNJUDGED_FRAMES = 1000  # speech heard over the assistant's voice, kept until judged (10 s)
_LEARN_EVERY = 12  # frames (120 ms) between two looks at the echo path
_FOLLOWS = 0.9  # correlation of envelopes at which the microphone follows the speaker
_LAG_LOOKS = 10  # looks at the echo path before its delay can be trusted
_LAG_SLACK = 2  # frames of jitter between looks at a steady echo path
_LOUD_LOG_POWER = -4.0  # the speaker is playing at over -40 dBFS
_SOUND = 1e-4  # reference samples above this (-80 dBFS) are sound, not silence
_ECHO_TAIL_S = 2.0  # the canceller runs this long after the speaker's last sound
_SLOW_PATH_S = 3.0  # echo paths looked for in held speech (see follows_at_any_delay)
_REVERB_S = 0.35  # the room keeps a sound this long after it (and the learned delay's error)
_log = logging.getLogger(__name__)


def _log_energies(frames: np.ndarray) -> np.ndarray:
    """log10 mean power of each row (one 10 ms frame per row)."""
    return np.log10(np.einsum("ij,ij->i", frames, frames) / frames.shape[1] + 1e-10)


def envelope_follow(mic_env: np.ndarray, ref_env: np.ndarray) -> float:
    """The best Pearson correlation of ``mic_env`` with a stretch of ``ref_env`` as long,
    ending at most where ``ref_env`` does (which then leads ``mic_env`` by nothing): how
    closely the microphone follows the speaker at some delay. 0 when either is flat."""
    n = mic_env.size
    if n < 2 or ref_env.size < n or mic_env.std() < 1e-3:
        return 0.0
    corr, _ = _pearson(np.lib.stride_tricks.sliding_window_view(ref_env, n), mic_env)
    return float(corr.max()) if corr.size else 0.0


def _pearson(segments: np.ndarray, mic_env: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation of ``mic_env`` with each row of ``segments`` that is not flat,
    and which rows those are (a boolean mask)."""
    usable = segments.std(axis=1) >= 1e-3
    if not usable.any():
        return np.zeros(0), usable
    centred = segments[usable] - segments[usable].mean(axis=1, keepdims=True)
    m = mic_env - mic_env.mean()
    return centred @ m / (np.linalg.norm(centred, axis=1) * np.linalg.norm(m)), usable


def _to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)


class SampleClock:
    """Maps a stream's sample count to time.monotonic(), re-anchoring after gaps (a stream
    that restarted, or lost samples) unless they are counted in (``skip_gap``)."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.count = 0

    def advance(self, n: int, started_at: float) -> int:
        """Register ``n`` samples that started at ``started_at``; returns their first index."""
        expected = None if self.t0 is None else self.t0 + self.count / RATE
        # Early blocks are bursts (callbacks bunch up); late ones follow a gap in which the
        # device played or captured nothing of ours, so the timeline moves on.
        if (
            expected is None
            or started_at - expected > _LATE_S
            or expected - started_at > _REANCHOR_S
        ):
            self.t0 = started_at - self.count / RATE
        first = self.count
        self.count += n
        return first

    def skip_gap(self, started_at: float) -> int:
        """Count in the samples a device made of its own (silence, as it ran dry) before a
        block that starts at ``started_at``, and return how many: the samples before keep
        their moments. (Re-anchoring instead would move them all by the gap, and echo of
        them looked for afterwards, as under load, would be sought at the wrong moment.)"""
        if self.t0 is None:
            return 0
        gap = round((started_at - self.t0) * RATE) - self.count
        if gap <= _LATE_S * RATE:
            return 0
        self.count += gap
        return gap

    def index_at(self, moment: float) -> int | None:
        return None if self.t0 is None else round((moment - self.t0) * RATE)


class EchoCanceller:
    """Removes the speaker's sound from the microphone signal (both 16 kHz mono float32).

    ``add_reference`` is called (from the audio callback) with what goes to the speaker, as
    it goes; ``process`` with microphone audio in order, with its capture time.
    """

    def __init__(self, *, delay_hint_ms: int = 80) -> None:
        from livekit import rtc  # imported here: loads the WebRTC library

        self._rtc = rtc
        self._apm = rtc.AudioProcessingModule(
            echo_cancellation=True,
            noise_suppression=False,
            high_pass_filter=True,
            auto_gain_control=False,
        )
        self._apm.set_stream_delay_ms(delay_hint_ms)
        self._ring = np.zeros(int(_RING_S * RATE), dtype=np.float32)
        self._ref_clock = SampleClock()
        self._mic_clock = SampleClock()
        self._lock = threading.Lock()
        self._mic_rest = np.zeros(0, dtype=np.float32)
        self._mic_rest_index = 0
        # Log-energy envelopes (one value per 10 ms frame) of the raw microphone and of the
        # reference it was paired with, for telling echo from the user's voice.
        self._mic_env: deque[float] = deque(maxlen=_ENVELOPE_FRAMES)
        self._ref_env: deque[float] = deque(maxlen=_ENVELOPE_FRAMES)
        self.echo_lag: int | None = None  # learned delay of the echo path, in 10 ms frames
        # Whether each recent look at the echo path found the microphone following the
        # speaker closely at some delay (see echo_lag_reliable).
        # (the delay found, or None), and whether those delays agree (see echo_lag_reliable).
        self._lag_found: deque[int | None] = deque(maxlen=2 * _LAG_LOOKS)
        # How far the raw microphone rises above the loudest recent reference while only the
        # assistant talks (log10 power per frame): the echo path's gain, whatever its delay.
        self._echo_excess: deque[float] = deque(maxlen=_EXCESS_FRAMES)
        # The same, only where the speaker played loudly: does anything come back at all?
        self._loud_excess: deque[float] = deque(maxlen=_EXCESS_FRAMES)
        self._path: bool | None = None  # see echo_path
        # The same measures of the frames heard as speech, each with its capture time,
        # until that speech is judged (see judged): (captured_at, excess, loudest).
        self._unjudged: deque[tuple[float, float, float]] = deque(maxlen=_UNJUDGED_FRAMES)
        self._evidence_lock = threading.Lock()  # the judge's thread adds evidence too
        self._frames_seen = 0
        self._frames_learned = 0
        self._sound_until: int | None = None  # reference index just after its last sound
        self._ceiling: float | None = None  # see only_echo

    def add_reference(self, audio: np.ndarray, at: float | None = None) -> None:
        """Audio sent to the speaker now (or at ``at``, time.monotonic())."""
        at = time.monotonic() if at is None else at
        with self._lock:
            gap = self._ref_clock.skip_gap(at)
            if gap:  # the speaker ran dry: it played silence in the meantime
                end = self._ref_clock.count
                self._ring[np.arange(end - min(gap, self._ring.size), end) % self._ring.size] = 0
            first = self._ref_clock.advance(audio.size, at)
            idx = (first + np.arange(audio.size)) % self._ring.size
            self._ring[idx] = audio
            if audio.size and np.abs(audio).max() > _SOUND:
                self._sound_until = first + audio.size

    def _references_for(self, mic_index: int, n: int) -> tuple[np.ndarray, bool]:
        """The reference paired with microphone samples ``mic_index`` onwards (``n``, whole
        frames, one frame per row; silence where the speaker sent nothing), and whether
        the speaker made a sound recently enough for its echo to be around."""
        with self._lock:
            start = self._reference_start(mic_index)
            if start is None:
                return np.zeros((n // AEC_FRAME, AEC_FRAME), np.float32), False
            out = self._reference_copy(start, n)
            sounding = self._sound_until is not None and self._sound_until > start - int(
                _ECHO_TAIL_S * RATE
            )
        return out.reshape(-1, AEC_FRAME), sounding

    def _reference_copy(self, start: int, n: int) -> np.ndarray:
        """Reference samples ``start`` .. ``start + n`` (silence where the speaker sent
        nothing, or the ring no longer holds them). Call with the lock held."""
        out = np.zeros(n, np.float32)
        newest = self._ref_clock.count
        lo, hi = max(start, newest - self._ring.size, 0), min(start + n, newest)
        if lo < hi:
            out[lo - start : hi - start] = self._ring[np.arange(lo, hi) % self._ring.size]
        return out

    def _reference_start(self, mic_index: int) -> int | None:
        """Index in the reference of the audio paired with microphone sample ``mic_index``
        (heard ``_LEAD_S`` after it was captured); None before both streams have started.
        Call with the lock held."""
        if self._mic_clock.t0 is None:
            return None
        return self._ref_clock.index_at(self._mic_clock.t0 + mic_index / RATE + _LEAD_S)

    def _reference_ready(self, mic_index: int) -> bool:
        """Has the speaker produced the reference for the 10 ms frame at ``mic_index`` (or
        waited long enough that it never will)?"""
        with self._lock:
            start = self._reference_start(mic_index)
            if start is None or start + AEC_FRAME <= self._ref_clock.count:
                return True
            captured = self._mic_clock.t0 + mic_index / RATE
        return time.monotonic() - captured > _WAIT_S + _LEAD_S

    def _envelopes(self) -> tuple[np.ndarray, np.ndarray]:
        """The raw microphone's and the paired reference's envelopes, as arrays."""
        return (
            np.fromiter(self._mic_env, np.float64, len(self._mic_env)),
            np.fromiter(self._ref_env, np.float64, len(self._ref_env)),
        )

    def _correlations(self, window: int, lags: range) -> list[tuple[float, int]]:
        """Pearson correlation of the microphone's last ``window`` envelope frames with the
        reference's, delayed by each of ``lags`` frames (all lags in one NumPy pass)."""
        mic, ref = self._envelopes()
        mic = mic[-window:]
        if mic.size < window or mic.std() < 1e-3:
            return []
        lag = np.arange(lags.start, min(lags.stop, ref.size - window + 1))
        if not lag.size:
            return []
        starts = ref.size - lag - window
        segments = np.lib.stride_tricks.sliding_window_view(ref, window)[starts]
        corr, usable = _pearson(segments, mic)
        return [(float(c), int(k)) for c, k in zip(corr, lag[usable], strict=True)]

    def _excess(self, last: int = _ENVELOPE_FRAMES) -> tuple[np.ndarray, np.ndarray]:
        """Per envelope frame (the ``last`` ones at most), the raw microphone's level over
        the loudest reference of the preceding ``_MAX_ECHO_LAG`` frames (log10 power), and
        that loudest reference: echo alone stays at the echo path's gain, whatever the
        delay; the user's voice rises above it."""
        mic, ref = self._envelopes()
        n = min(mic.size, ref.size, last + _MAX_ECHO_LAG)
        if n <= _MAX_ECHO_LAG:
            return np.zeros(0), np.zeros(0)
        loudest = np.lib.stride_tricks.sliding_window_view(ref[-n:], _MAX_ECHO_LAG + 1).max(1)
        return mic[-loudest.size :] - loudest, loudest

    def learn_echo_path(
        self,
        window_frames: int = 50,
        max_lag_frames: int = _MAX_ECHO_LAG,
        *,
        speech: bool = False,
    ) -> None:
        """While the assistant talks: find the delay at which the raw microphone follows
        the speaker (a real echo path; without one, as with headphones, nothing is learned),
        and how loud its echo gets. ``speech``: the microphone hears speech, which may be
        the user's: it is kept aside until it is judged (see ``judged``)."""
        fresh = min(self._frames_seen - self._frames_learned, _ENVELOPE_FRAMES)
        if fresh < _LEARN_EVERY:
            return  # a few frames at a time: the listening thread must keep up
        self._frames_learned = self._frames_seen
        excess, loudest = self._excess()
        if not excess.size:
            return
        # Frames with nothing from the speaker say nothing about its echo.
        excess, loudest = excess[-fresh:], loudest[-fresh:]
        if speech:
            self._keep_unjudged(excess, loudest)
            return
        with self._evidence_lock:
            self._add_evidence(excess, loudest)
        if not self._path:
            # No echo heard (yet): a quiet microphone follows nothing, and a delay "found"
            # in the user's first words, by chance, took a "Stop." for echo on a busy
            # machine with headphones. The delay is looked for once an echo is heard.
            return
        found = self._correlations(window_frames, range(max_lag_frames + 1))
        if found:
            corr, lag = max(found)
            self._lag_found.append(lag if corr > _FOLLOWS else None)
            if corr > _FOLLOWS:
                self.echo_lag = lag

    def _add_evidence(self, excess: np.ndarray, loudest: np.ndarray) -> None:
        """Learn how loud the echo gets from frames of it, and whether there is an echo
        path at all. Call with the evidence lock held."""
        self._echo_excess.extend(excess[loudest > _AUDIBLE_LOG_POWER])
        self._ceiling = None
        self._loud_excess.extend(excess[loudest > _LOUD_LOG_POWER])
        if len(self._loud_excess) >= _KNOWN_FRAMES and not self._path:
            # A quarter of the frames: a slow path's echo arrives late, and the user's
            # voice in a few frames does not make one. Once heard, an echo path is kept
            # (a pause in playback can look like none); "none" needs 3 s of evidence.
            known = self._path
            heard = float(np.percentile(self._loud_excess, 75))
            if heard > _HEARD_EXCESS:
                self._path = True
            elif len(self._loud_excess) >= _NO_PATH_FRAMES:
                self._path = False
            if self._path is not known:
                _log.debug(
                    "echo path: %s (%d frames of the assistant's voice, 3/4 of them heard "
                    "%.1f dB or more below it)",
                    self._path,
                    len(self._loud_excess),
                    -10 * heard,
                )

    def _keep_unjudged(self, excess: np.ndarray, loudest: np.ndarray) -> None:
        """Keep the measures of frames heard as speech, with their capture times."""
        with self._lock:
            if self._mic_clock.t0 is None:
                return
            end = self._mic_clock.t0 + self._mic_rest_index / RATE
        starts = end - np.arange(excess.size, 0, -1) * (AEC_FRAME / RATE)
        with self._evidence_lock:
            self._unjudged.extend(
                zip(starts.tolist(), excess.tolist(), loudest.tolist(), strict=True)
            )

    def judged(self, start: float, end: float, *, echo: bool) -> None:
        """Speech the microphone captured from ``start`` to ``end`` (time.monotonic()) was
        judged the assistant's echo, or not. Echo is evidence of an echo path: held while
        the assistant talks, it is otherwise never learned from, and an echo path slower
        than the delays looked at, whose echo is held time after time, would be taken for
        none (with headphones the microphone hears nothing while the assistant talks but
        the user). So echo also restarts the count towards "none": the quiet frames before
        it were a slow path's echo yet to come. The user's speech is dropped."""
        with self._evidence_lock:
            kept = [f for f in self._unjudged if f[0] > end]
            frames = [f for f in self._unjudged if start <= f[0] <= end]
            self._unjudged = deque(kept, maxlen=_UNJUDGED_FRAMES)
            if not echo:
                return
            if self._path is None:
                self._loud_excess.clear()
            _log.debug("echo judged: %d frames of it heard as speech", len(frames))
            if frames:
                _, excess, loudest = (np.array(column) for column in zip(*frames, strict=True))
                self._add_evidence(excess, loudest)

    def echo_lag_reliable(self) -> bool:
        """Does the microphone keep following the speaker at one delay (``echo_lag``)? Not
        when the echo path is slower than the delays looked at, or changes: then a delay
        found once, by chance, says little."""
        found = self._lag_found
        if len(found) < _LAG_LOOKS or self.echo_lag is None:
            return False
        # At one delay: two voices (the user's and the assistant's) follow each other at
        # some delay by chance now and then, each time at another.
        agree = sum(
            1 for lag in found if lag is not None and abs(lag - self.echo_lag) <= _LAG_SLACK
        )
        return agree >= len(found) / 2

    def echo_free_at(self, moment: float) -> bool:
        """Can no echo of the assistant's voice be in what the microphone captured at
        ``moment`` (time.monotonic())? Only when the echo path's delay is known and steady
        and the speaker made no sound for that delay and a reverberation tail before it
        (playback paused for the user, or over). An unknown or slow echo path: False."""
        if self.echo_lag is None or not self.echo_lag_reliable():
            return False
        with self._lock:
            if self._mic_clock.t0 is None:
                return False
            if self._sound_until is None:
                return True
            # (the reference is paired with the microphone _LEAD_S ahead, as in process())
            paired = self._ref_clock.index_at(moment + _LEAD_S)
            if paired is None:
                return False
            reach = self._sound_until + self.echo_lag * AEC_FRAME + int(_REVERB_S * RATE)
        return paired > reach

    def follows_at_any_delay(
        self, mic: np.ndarray, captured_at: float, max_delay_s: float = _SLOW_PATH_S
    ) -> float:
        """How closely raw microphone audio ``mic``, captured from ``captured_at``
        (time.monotonic()), follows what the speaker played, at the best delay up to
        ``max_delay_s``: the correlation of their 10 ms envelopes, near 1 for the
        assistant's echo alone, lower with the user's voice in it. For echo paths slower
        than the canceller follows (it pairs the speaker's signal with the microphone at
        one short delay)."""
        n = mic.size // AEC_FRAME
        if n < _KNOWN_FRAMES:
            return 0.0
        back = round(max_delay_s * RATE / AEC_FRAME) * AEC_FRAME
        with self._lock:
            first = self._ref_clock.index_at(captured_at + _LEAD_S)
            if first is None:
                return 0.0
            reference = self._reference_copy(first - back, back + n * AEC_FRAME)
        return envelope_follow(
            _log_energies(mic[: n * AEC_FRAME].reshape(-1, AEC_FRAME)),
            _log_energies(reference.reshape(-1, AEC_FRAME)),
        )

    def echo_path(self) -> bool | None:
        """Does the assistant's voice come back into the microphone (speakers, not
        headphones)? None while unknown: "yes" can be told after half a second of its
        voice, "no" after three."""
        return self._path

    def only_echo(self, window_frames: int = 10) -> bool:
        """Is what the microphone hears over the last ``window_frames`` no louder than the
        assistant's own echo has been (a double-talk detector after Geigel)? False until
        enough of the assistant's voice has been heard to know its echo."""
        if len(self._echo_excess) < _EXCESS_FRAMES // 2:
            return False
        excess = self._excess(window_frames)[0]
        if not excess.size:
            return False
        if self._ceiling is None:  # (the echo's loudest level changes as it is learned)
            self._ceiling = float(np.percentile(self._echo_excess, 95)) + _USER_MARGIN
        return bool(np.mean(excess > self._ceiling) < 0.5)

    def echo_likelihood(self, window_frames: int = 30) -> float:
        """How closely the last ``window_frames`` (10 ms each) of the raw microphone follow
        the speaker's signal at the learned echo delay: near 1 for echo alone, lower when the
        user talks too, 0 when no echo path was ever seen."""
        if self.echo_lag is None:
            return 0.0
        found = self._correlations(
            window_frames, range(max(0, self.echo_lag - 3), self.echo_lag + 4)
        )
        return max((c for c, _ in found), default=0.0)

    def reference_level_db(self, window_s: float = 1.6) -> float:
        """Level (dBFS) of what the speaker played during the last ``window_s`` before the
        newest microphone sample: is the assistant's voice (or its echo tail, which a slow
        echo path delays) around?"""
        with self._lock:
            if self._mic_clock.t0 is None or self._ref_clock.t0 is None:
                return -200.0
            moment = self._mic_clock.t0 + self._mic_clock.count / RATE
            end = min(self._ref_clock.index_at(moment) or 0, self._ref_clock.count)
            start = max(end - int(window_s * RATE), self._ref_clock.count - self._ring.size, 0)
            if end <= start:
                return -200.0
            first, last = start % self._ring.size, end % self._ring.size
            if first < last:
                power = float(np.dot(self._ring[first:last], self._ring[first:last]))
            else:  # wraps around the ring's end
                head, tail = self._ring[first:], self._ring[:last]
                power = float(np.dot(head, head) + np.dot(tail, tail))
        return float(10 * np.log10(power / (end - start) + 1e-20))

    def process(self, mic: np.ndarray, captured_at: float | None = None) -> np.ndarray:
        """Echo-cancelled audio for ``mic`` (and for frames held back earlier). Output lags
        input by less than one 10 ms frame, or up to ``_WAIT_S`` while a frame waits for its
        reference.

        ``captured_at`` is when the block's first sample was captured (time.monotonic()).
        """
        if captured_at is None:
            captured_at = time.monotonic() - mic.size / RATE
        with self._lock:
            first = self._mic_clock.advance(mic.size, captured_at)
        if not self._mic_rest.size:
            self._mic_rest_index = first
        data = np.concatenate([self._mic_rest, mic.astype(np.float32, copy=False)])
        usable = data.size - data.size % AEC_FRAME
        while usable and not self._reference_ready(self._mic_rest_index + usable - AEC_FRAME):
            usable -= AEC_FRAME
        mic_frames = data[:usable].reshape(-1, AEC_FRAME)
        refs, sounding = self._references_for(self._mic_rest_index, usable)
        self._mic_env.extend(_log_energies(mic_frames))
        self._ref_env.extend(_log_energies(refs))
        self._frames_seen += len(mic_frames)
        if sounding:
            out = np.empty(usable, dtype=np.float32)
            mic_pcm, ref_pcm = _to_int16(mic_frames), _to_int16(refs)
            for i in range(len(mic_frames)):
                ref_frame = self._rtc.AudioFrame(ref_pcm[i].tobytes(), RATE, 1, AEC_FRAME)
                mic_frame = self._rtc.AudioFrame(mic_pcm[i].tobytes(), RATE, 1, AEC_FRAME)
                self._apm.process_reverse_stream(ref_frame)
                self._apm.process_stream(mic_frame)
                out[i * AEC_FRAME : (i + 1) * AEC_FRAME] = (
                    np.frombuffer(mic_frame.data, dtype=np.int16) / 32767.0
                )
        else:
            # Nothing from the speaker for seconds: no echo to cancel, and the listening
            # stage (which must keep up in real time) is spared the canceller's work.
            out = data[:usable].copy()
        self._mic_rest = data[usable:]
        self._mic_rest_index += usable
        return out
