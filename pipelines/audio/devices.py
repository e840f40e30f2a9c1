"""Audio devices: listing, choosing, remembering, and opening streams at a rate they accept.

A device is named by a string:
  ``default``          the system default;
  ``pulse:NAME``       a PulseAudio/PipeWire source or sink by name (through ALSA's pulse plugin);
  ``3``                a PortAudio device index;
  anything else        a (sub)string of a PortAudio device name.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs
import sounddevice as sd

from ..errors import VistavoxError

_ENV_LOCK = threading.Lock()


class AudioDeviceError(VistavoxError):
    """An audio device is missing or refuses the stream."""


@dataclass(frozen=True)
class AudioDevice:
    """One PortAudio device."""

    index: int
    name: str
    host_api: str
    max_inputs: int
    max_outputs: int
    default_rate: float


def list_devices() -> list[AudioDevice]:
    """Every device PortAudio sees now."""
    apis = sd.query_hostapis()
    return [
        AudioDevice(
            index=i,
            name=d["name"],
            host_api=apis[d["hostapi"]]["name"],
            max_inputs=d["max_input_channels"],
            max_outputs=d["max_output_channels"],
            default_rate=d["default_samplerate"],
        )
        for i, d in enumerate(sd.query_devices())
    ]


@dataclass(frozen=True)
class DeviceChoice:
    """A parsed device name: the PortAudio device and, for pulse:NAME, the Pulse name."""

    spec: str
    portaudio: int | str | None
    pulse_name: str | None = None

    @classmethod
    def parse(cls, spec: str | None) -> DeviceChoice:
        spec = (spec or "default").strip()
        if spec == "default":
            return cls(spec, None)
        if spec.startswith("pulse:"):
            return cls(spec, "pulse", spec.removeprefix("pulse:") or None)
        if spec.isdigit():
            return cls(spec, int(spec))
        return cls(spec, spec)


@contextlib.contextmanager
def _pulse_env(variable: str, value: str | None) -> Iterator[None]:
    """libpulse reads PULSE_SOURCE/PULSE_SINK when a stream connects; set it just for that."""
    with _ENV_LOCK:
        old = os.environ.get(variable)
        if value:
            os.environ[variable] = value
        try:
            yield
        finally:
            if value:
                if old is None:
                    os.environ.pop(variable, None)
                else:
                    os.environ[variable] = old


def _supported_rate(choice: DeviceChoice, wanted: int, is_input: bool) -> int:
    check = sd.check_input_settings if is_input else sd.check_output_settings
    try:
        check(device=choice.portaudio, samplerate=wanted, channels=1, dtype="float32")
        return wanted
    except Exception:  # noqa: BLE001 - PortAudio says no in many ways
        kind = "input" if is_input else "output"
        info = sd.query_devices(choice.portaudio, kind)
        return int(info["default_samplerate"])


def open_stream(
    spec: str | None,
    *,
    is_input: bool,
    rate: int,
    blocksize: int,
    callback: Callable[..., None],
    finished_callback: Callable[[], None] | None = None,
    latency: str | float = "low",
) -> tuple[sd.InputStream | sd.OutputStream, int]:
    """Open (not start) a mono float32 stream; returns it with the rate actually used.

    Raises AudioDeviceError with a clear message when the device is missing or refuses.
    """
    choice = DeviceChoice.parse(spec)
    kind = "input" if is_input else "output"
    variable = "PULSE_SOURCE" if is_input else "PULSE_SINK"
    try:
        with _pulse_env(variable, choice.pulse_name):
            actual = _supported_rate(choice, rate, is_input)
            cls = sd.InputStream if is_input else sd.OutputStream
            stream = cls(
                device=choice.portaudio,
                samplerate=actual,
                channels=1,
                dtype="float32",
                blocksize=int(blocksize * actual / rate),
                latency=latency,
                callback=callback,
                finished_callback=finished_callback,
            )
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioDeviceError(f"cannot open {kind} device '{choice.spec}': {exc}") from exc
    return stream, actual


def close_stream(stream: sd.InputStream | sd.OutputStream | None) -> None:
    """Stop and close a stream at once, even if its device is already gone."""
    if stream is None:
        return
    try:
        stream.abort()
        stream.close()
    except Exception:  # noqa: BLE001 - PortAudio fails in many ways on a vanished device
        pass


class Reconnector:
    """Reports a device that stopped working once, then reopens it every second until it
    is back (shared by the microphone and speaker stages)."""

    RETRY_S = 1.0

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        self.lost = False
        self._next_retry = 0.0

    def check(self, alive: bool, *, close, reopen, on_problem, on_recovered, device) -> None:
        """Call periodically with whether the stream is healthy."""
        if alive:
            return
        now = time.monotonic()
        if not self.lost:
            self.lost = True
            close()
            if on_problem:
                on_problem(self.code, self.message)
        if now < self._next_retry:
            return
        self._next_retry = now + self.RETRY_S
        try:
            reopen()
        except AudioDeviceError:
            return
        self.lost = False
        if on_recovered:
            on_recovered(device)


# --- remembering the user's choice -------------------------------------------------------


def _settings_path() -> Path:
    return Path(platformdirs.user_config_dir("vistavox")) / "audio-devices.json"


@dataclass
class DeviceSettings:
    """The input and output devices the user chose last."""

    input: str = "default"
    output: str = "default"

    @classmethod
    def load(cls) -> DeviceSettings:
        """The devices saved last; the defaults when none are (a damaged file is kept
        aside as ``audio-devices.json.damaged``)."""
        from ..files import read_json, set_aside

        path = _settings_path()
        try:
            data = read_json(path)
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            if path.is_file():
                set_aside(path, exc)
            return cls()
        if not isinstance(data, dict):
            set_aside(path, "not a JSON object")
            return cls()

        def name(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) and value.strip() else "default"

        return cls(input=name("input"), output=name("output"))

    def save(self) -> Path:
        from ..files import write_atomic

        path = _settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(asdict(self), indent=2).encode("utf-8"))
        return path


def device_moment(time_info, *, is_input: bool) -> float | None:
    """time.monotonic() at which a callback's buffer was captured (input: its first sample
    at the converter) or will be heard (output), from PortAudio's stream times; None when
    the host does not report them sensibly."""
    try:
        current = time_info.currentTime
        device = time_info.inputBufferAdcTime if is_input else time_info.outputBufferDacTime
    except AttributeError:
        return None
    lag = (current - device) if is_input else (device - current)
    if current <= 0 or device <= 0 or not 0.0 <= lag < 1.0:
        return None
    now = time.monotonic()
    return now - lag if is_input else now + lag
