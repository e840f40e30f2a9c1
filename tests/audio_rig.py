"""A private PulseAudio daemon with virtual devices, for tests and benchmarks that go through
real audio devices:

  user_in   null sink: what the user "says" is played here
  vmic      virtual microphone (remap of user_in.monitor): the assistant listens here
  asst_out  null sink: the assistant speaks here; its monitor is recorded

Nothing is left running afterwards.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

RATE = 16_000
MIC = "pulse:vmic"
SPEAKER = "pulse:asst_out"


class PulseUnavailable(RuntimeError):
    pass


class PulseRig:
    """Start with ``start()``; ``close()`` stops the daemon and removes its files."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vistavox-pulse-"))
        self.env: dict[str, str] = {}
        self._proc: subprocess.Popen | None = None
        self._old_env: dict[str, str | None] = {}
        self.player: MicPlayer | None = None
        self.recorder: Recorder | None = None
        self._modules: dict[str, str] = {}

    def start(self) -> PulseRig:
        if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
            raise PulseUnavailable(
                "pulseaudio/pactl not installed (packaging/setup.sh test installs them)"
            )
        runtime = self.dir / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env = {
            "XDG_RUNTIME_DIR": str(runtime),
            "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
            "PULSE_STATE_PATH": str(self.dir / "state"),
            "PULSE_SERVER": f"unix:{runtime / 'pulse' / 'native'}",
        }
        self._proc = subprocess.Popen(
            [
                "pulseaudio",
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--log-target=stderr",
                "--log-level=error",
                "-L",
                "module-native-protocol-unix auth-anonymous=1",
                "-L",
                "module-null-sink sink_name=asst_out rate=48000",
                "-L",
                "module-null-sink sink_name=user_in rate=48000",
                "-L",
                "module-remap-source master=user_in.monitor source_name=vmic",
            ],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for key, value in env.items():
            self._old_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        self.env = env
        deadline = time.monotonic() + 15
        while subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                self.close()
                raise PulseUnavailable(f"pulseaudio did not start: {err.strip()[:500]}")
            time.sleep(0.1)
        if self.player is None:
            _reinit_portaudio()
        return self

    def pactl(self, *args: str) -> str:
        return subprocess.run(
            ["pactl", *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    def start_io(self) -> None:
        """Start feeding the virtual mic and recording the virtual speaker."""
        self.player = MicPlayer()
        self.recorder = Recorder()

    # scenarios ------------------------------------------------------------------------
    def loop_speaker_into_mic(self, gain_db: float = -6.0, latency_ms: int = 30) -> None:
        """Speakers instead of headphones: the assistant's voice reaches the microphone,
        ``latency_ms`` later (Bluetooth speakers add a second or more)."""
        self._modules["loopback"] = self.pactl(
            "load-module",
            "module-loopback",
            "source=asst_out.monitor",
            "sink=user_in",
            f"latency_msec={latency_ms}",
            "source_dont_move=true",
            "sink_dont_move=true",
        )
        time.sleep(0.3)
        idx = self._sink_input_of(self._modules["loopback"])
        if idx is not None:
            volume = int(65536 * 10 ** (gain_db / 20))
            self.pactl("set-sink-input-volume", idx, str(volume))

    def stop_daemon(self) -> None:
        """The audio server goes away (crash, restart, devices unplugged): every stream on
        it fails."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)

    def restart_daemon(self) -> None:
        """Bring the server and its devices back, and the rig's own player and recorder."""
        self._close_io()
        self.start()
        self.start_io()

    def unplug_mic(self) -> None:
        module = self._module_of("vmic")
        self.pactl("unload-module", module)

    def replug_mic(self) -> None:
        self.pactl(
            "load-module", "module-remap-source", "master=user_in.monitor", "source_name=vmic"
        )

    def _module_of(self, source_name: str) -> str:
        for line in self.pactl("list", "short", "sources").splitlines():
            fields = line.split("\t")
            if fields[1] == source_name:
                owner = self.pactl("list", "sources")
                # find "Owner Module: N" in the block of this source
                block = owner.split(f"Name: {source_name}")[1]
                return block.split("Owner Module:")[1].split()[0]
        raise KeyError(source_name)

    def _sink_input_of(self, module: str) -> str | None:
        for line in self.pactl("list", "short", "sink-inputs").splitlines():
            fields = line.split("\t")
            if len(fields) > 1 and fields[1] == module:
                return fields[0]
        return None

    def _close_io(self) -> None:
        for part in (self.player, self.recorder):
            if part is not None:
                with contextlib.suppress(Exception):  # its server may be gone already
                    part.close()

    def close(self) -> None:
        self._close_io()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        for key, value in self._old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(self.dir, ignore_errors=True)


def _reinit_portaudio() -> None:
    """PortAudio lists devices when initialised; re-list now that PulseAudio runs."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


class MicPlayer:
    """Plays audio into the virtual microphone, continuously (silence in between), and
    records when each clip actually went out."""

    def __init__(self) -> None:
        from vistavox.pipelines.audio.devices import device_moment, open_stream

        self._device_moment = device_moment
        self._queue: queue.Queue[tuple[str, np.ndarray]] = queue.Queue()
        self._current: tuple[str, np.ndarray, int] | None = None
        self.played: dict[str, tuple[float, float]] = {}  # label → (start, end) monotonic
        self._lock = threading.Lock()
        self.stream, self.rate = open_stream(
            "pulse:user_in",
            is_input=False,
            rate=RATE,
            blocksize=320,
            callback=self._callback,
            # A deep buffer: the user's voice must not break up when the machine is busy
            # (the times below are when it is heard, whatever the buffer's depth).
            latency=0.25,
        )
        self.stream.start()

    def _callback(self, outdata, frames, time_info, status) -> None:
        out = outdata[:, 0]
        out[:] = 0
        now = self._device_moment(time_info, is_input=False) or time.monotonic()
        if self._current is None:
            try:
                label, audio = self._queue.get_nowait()
                self._current = (label, audio, 0)
                self.played[label] = (now, now + audio.size / self.rate)
            except queue.Empty:
                return
        label, audio, pos = self._current
        n = min(frames, audio.size - pos)
        out[:n] = audio[pos : pos + n]
        pos += n
        self._current = None if pos >= audio.size else (label, audio, pos)

    def say(self, label: str, audio_16k: np.ndarray, wait: bool = True) -> tuple[float, float]:
        """Play 16 kHz audio into the mic; returns its (start, end) in time.monotonic()."""
        from vistavox.pipelines.audio.resample import resample

        self._count = getattr(self, "_count", 0) + 1
        label = f"{label}#{self._count}"  # each clip is its own, even if a label repeats
        self._queue.put((label, resample(audio_16k, RATE, self.rate)))
        deadline = time.monotonic() + 10 + audio_16k.size / RATE
        while label not in self.played and time.monotonic() < deadline:
            time.sleep(0.01)
        start, end = self.played[label]
        if wait:
            time.sleep(max(0.0, end - time.monotonic()))
        return start, end

    def close(self) -> None:
        self.stream.abort()
        self.stream.close()


class Recorder:
    """Records the virtual speaker's monitor with arrival times, on one clock."""

    def __init__(self, source: str = "pulse:asst_out.monitor") -> None:
        from vistavox.pipelines.audio.devices import device_moment, open_stream

        self._device_moment = device_moment
        self.blocks: list[tuple[float, np.ndarray]] = []
        self._lock = threading.Lock()
        self.stream, self.rate = open_stream(
            source, is_input=True, rate=RATE, blocksize=320, callback=self._callback
        )
        self.stream.start()

    def _callback(self, indata, frames, time_info, status) -> None:
        # Stamped with when the block was captured (its end), as the microphone does: a
        # callback that runs late on a busy machine must not shift the sound later.
        captured = self._device_moment(time_info, is_input=True)
        arrived = time.monotonic() if captured is None else captured + frames / self.rate
        with self._lock:
            self.blocks.append((arrived, indata[:, 0].copy()))

    def wait_until(self, moment: float, timeout: float = 60.0) -> None:
        """Block until the sound captured at ``moment`` (time.monotonic()) has arrived: a
        check of a stretch of time must not run before that stretch was recorded."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.blocks and self.blocks[-1][0] >= moment:
                    return
            time.sleep(0.02)
        raise AssertionError(f"nothing was recorded after {moment:.2f} within {timeout} s")

    def audio_between(self, start: float, end: float) -> np.ndarray:
        with self._lock:
            parts = [b for t, b in self.blocks if start <= t <= end]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def first_sound_after(self, start: float, threshold: float = 0.01) -> float | None:
        """time.monotonic() of the first sample above ``threshold`` arriving after ``start``."""
        with self._lock:
            blocks = [(t, b) for t, b in self.blocks if t >= start]
        for arrived, block in blocks:
            loud = np.flatnonzero(np.abs(block) > threshold)
            if loud.size:
                return arrived - (block.size - loud[0]) / self.rate
        return None

    def last_sound_between(self, start: float, end: float, threshold: float = 0.01):
        with self._lock:
            blocks = [(t, b) for t, b in self.blocks if start <= t <= end]
        last = None
        for arrived, block in blocks:
            loud = np.flatnonzero(np.abs(block) > threshold)
            if loud.size:
                last = arrived - (block.size - loud[-1]) / self.rate
        return last

    def close(self) -> None:
        self.stream.abort()
        self.stream.close()


def speech_bounds(audio_16k: np.ndarray) -> tuple[float, float]:
    """Seconds from the clip's start to the true start and end of its speech (VAD, no pad)."""
    from vistavox.pipelines.speech.vad import TrimSettings, speech_spans

    spans = speech_spans(audio_16k, TrimSettings(pad_ms=0, min_silence_ms=300))
    if not spans:
        return 0.0, audio_16k.size / RATE
    return spans[0].start / RATE, spans[-1].end / RATE


def calibrate(rig: PulseRig, trials: int = 5) -> float:
    """The rig's own delay from MicPlayer.say() timestamps to Recorder arrival times,
    measured by playing clicks into user_in and recording user_in.monitor. Subtracted from
    voice-to-voice figures so they count only the assistant's share."""
    recorder = Recorder("pulse:user_in.monitor")
    delays = []
    try:
        time.sleep(0.5)
        click = np.zeros(int(0.3 * RATE), np.float32)
        click[:160] = 0.8
        for i in range(trials):
            start, _ = rig.player.say(f"click{i}", click)
            heard = recorder.first_sound_after(start, threshold=0.3)
            if heard is not None:
                delays.append(heard - start)
            time.sleep(0.2)
    finally:
        recorder.close()
    return float(np.median(delays)) if delays else 0.0
