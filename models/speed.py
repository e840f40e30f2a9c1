"""How fast an installed model runs on this machine: measured on request (the Models page's
"Measure speed"), kept in the config folder, and shown beside the model from then on.

- language and vision models: tokens written per second, after a short prompt;
- speech recognition: seconds of speech transcribed per second (the sample question);
- voices: seconds of speech synthesised per second.

A figure is kept with the machine's core count and the date: a figure measured on other
hardware is not shown as this machine's.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from ..pipelines.app_settings import config_dir
from .manifest import ModelKind, get_spec
from .resolve import ModelError, resolve

SPEECH_RATE = 16_000
_PROMPT = "In two sentences, say why the sea is salty."
_SPOKEN = "The kettle has boiled. Your pasta timer has four minutes left."


@dataclass(frozen=True)
class Speed:
    """One measurement: ``value`` in ``unit``, with ``cores`` and the ``day`` it was made."""

    value: float
    unit: str  # "tokens/s" or "× real time"
    cores: int
    day: str

    def text(self) -> str:
        shown = f"{self.value:.1f}" if self.value < 100 else f"{self.value:.0f}"
        return f"{shown} {self.unit}"


def _path() -> Path:
    return config_dir() / "speeds.json"


def known() -> dict[str, Speed]:
    """The figures measured on this machine (an unreadable file counts as none)."""
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
        speeds = {name: Speed(**entry) for name, entry in data.items()}
    except (OSError, ValueError, TypeError):
        return {}
    cores = os.cpu_count() or 1
    return {name: s for name, s in speeds.items() if s.cores == cores}


def _keep(name: str, speed: Speed) -> None:
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[name] = asdict(speed)
    _path().parent.mkdir(parents=True, exist_ok=True)
    temporary = _path().with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=1), encoding="utf-8")
    temporary.replace(_path())  # a crash mid-write leaves the old figures whole


def measure(name: str) -> Speed:
    """Load model ``name``, time it on a fixed task, keep and return the figure. Slow (the
    model loads): not on a GUI thread. Raises ModelError when it is not installed."""
    spec = get_spec(name)
    model = resolve(spec)
    if spec.kind in (ModelKind.LLM, ModelKind.VISION):
        value, unit = _language(model), "tokens/s"
    elif spec.kind is ModelKind.STT:
        value, unit = _recognition(model), "× real time"
    elif spec.kind is ModelKind.TTS:
        value, unit = _voice(model), "× real time"
    else:
        raise ModelError(f"{spec.title}: its speed is not measured (it runs only to index files)")
    speed = Speed(round(value, 2), unit, os.cpu_count() or 1, date.today().isoformat())
    _keep(name, speed)
    return speed


def _language(model) -> float:
    from ..pipelines.kernel.local_llm import LocalLlm

    llm = LocalLlm(model)
    messages = [{"role": "user", "content": _PROMPT}]
    for _ in llm.stream_chat(messages, max_tokens=4, temperature=0.0):
        pass  # the first pass reads the prompt: not generation speed
    first = None
    pieces = []
    for piece in llm.stream_chat(messages, max_tokens=64, temperature=0.0):
        if first is None:
            first = time.perf_counter()
        pieces.append(piece)
    ended = time.perf_counter()
    tokens = llm.count_tokens("".join(pieces))
    if first is None or tokens < 2 or ended <= first:
        raise ModelError(f"{model.spec.title} wrote nothing to time")
    return (tokens - 1) / (ended - first)  # after the first token: the pace of writing


def _recognition(model) -> float:
    from .. import resources
    from ..pipelines.audio.files import load_audio
    from ..pipelines.speech.stt import Transcriber

    sample = Path(resources.__file__).parent / "samples" / "question.wav"
    audio = load_audio(sample, SPEECH_RATE)
    transcriber = Transcriber(model)
    transcriber.transcribe(audio)  # the first call sets up the decoder
    started = time.perf_counter()
    transcriber.transcribe(audio)
    return (len(audio) / SPEECH_RATE) / (time.perf_counter() - started)


def _voice(model) -> float:
    from ..pipelines.speech.tts import Synthesizer

    voice = Synthesizer(model)
    voice.speak("Hello.")  # the first call sets up the session
    started = time.perf_counter()
    audio = voice.speak(_SPOKEN)
    return (len(audio) / voice.sample_rate) / (time.perf_counter() - started)
