"""Synthetic recordings for training a wake word: a phrase spoken by the embedded Piper
voice (at several speeds and amounts of variation) and by espeak-ng's voices (accents,
speeds, pitches), and the room and noise it is heard in (reverberation from generated
impulse responses, white, pink and brown noise, the babble of other speech, the level).
Everything is made here, offline."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np
import soundfile

from ..audio.resample import resample

RATE = 16_000

# espeak-ng's English accents and its voice variants (male, female, other timbres)
ESPEAK_ACCENTS = (
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
ESPEAK_VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
    "klatt", "klatt2", "klatt3", "Annie", "Andy", "Alicia", "Michael", "Steph", "norbert",
)  # fmt: skip


class SynthesisError(RuntimeError):
    """A voice could not speak."""


@dataclass(frozen=True)
class Voice:
    """One way of speaking: the Piper voice or an espeak-ng voice, with a speed (1: the
    voice's own), and for Piper the variation of its sound and rhythm, for espeak-ng its
    pitch (0-99)."""

    engine: str  # "piper" or "espeak"
    name: str  # espeak-ng voice+variant ("en-gb+f3"); "" for Piper
    speed: float = 1.0
    variation: float = 0.667  # Piper's noise scale
    rhythm: float = 0.8  # Piper's noise_w scale
    pitch: int = 50

    def __str__(self) -> str:
        if self.engine == "piper":
            return f"piper x{self.speed:.2f} n{self.variation:.2f} w{self.rhythm:.2f}"
        return f"espeak {self.name} x{self.speed:.2f} p{self.pitch}"


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def voices(
    count: int, rng: random.Random, *, piper_share: float = 0.3, taken: set[str] | None = None
) -> list[Voice]:
    """``count`` different voices, about ``piper_share`` of them Piper's (all of them if
    espeak-ng is not installed); no espeak-ng voice named in ``taken`` (to which the names
    used are added)."""
    taken = set() if taken is None else taken
    out: set[Voice] = set()
    espeak = espeak_available()
    while len(out) < count:
        speed = round(rng.uniform(0.75, 1.3), 2)
        if not espeak or rng.random() < piper_share:
            variation, rhythm = round(rng.uniform(0.3, 1.0), 2), round(rng.uniform(0.3, 1.2), 2)
            out.add(Voice("piper", "", speed, variation, rhythm))
            continue
        name = f"{rng.choice(ESPEAK_ACCENTS)}+{rng.choice(ESPEAK_VARIANTS)}"
        if name not in taken:
            taken.add(name)
            out.add(Voice("espeak", name, speed, pitch=rng.randrange(20, 81)))
    return sorted(out, key=str)


class Speaker:
    """Speaks text in any ``Voice`` at 16 kHz (Piper loaded once, on first use)."""

    def __init__(self, seed: int = 0) -> None:
        self._piper = None
        self._seed = seed

    def say(self, text: str, voice: Voice) -> np.ndarray:
        """``text`` spoken by ``voice``: float32 at 16 kHz, silence trimmed."""
        if voice.engine == "piper":
            audio = self._say_piper(text, voice)
        else:
            audio = self._say_espeak(text, voice)
        return trim(audio)

    def _say_piper(self, text: str, voice: Voice) -> np.ndarray:
        if self._piper is None:
            import onnxruntime

            from .tts import Synthesizer

            # Piper's variation comes from random operators in its network, seeded when the
            # session is made: the same phrase makes the same recordings (and word) again.
            onnxruntime.set_seed(self._seed)
            self._piper = Synthesizer(threads=1)
        tts = self._piper
        audio = tts.speak_varied(text, voice.speed, voice.variation, voice.rhythm)
        return resample(audio, tts.sample_rate, RATE)

    @staticmethod
    def _say_espeak(text: str, voice: Voice) -> np.ndarray:
        command = ["espeak-ng", "-v", voice.name, "-s", str(int(175 * voice.speed))]
        command += ["-p", str(voice.pitch), "--stdout", text]
        try:
            done = subprocess.run(command, capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SynthesisError(f"espeak-ng could not speak ({exc})") from exc
        if done.returncode != 0 or not done.stdout:
            why = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
            raise SynthesisError(f"espeak-ng could not speak with {voice.name} ({why})")
        audio, rate = soundfile.read(io.BytesIO(done.stdout), dtype="float32")
        return resample(audio if audio.ndim == 1 else audio.mean(axis=1), rate, RATE)


def trim(audio: np.ndarray, floor_db: float = -40.0) -> np.ndarray:
    """``audio`` without the near-silence before and after it (10 ms frames more than
    ``floor_db`` below its loudest)."""
    frames = audio[: audio.size // 160 * 160].reshape(-1, 160)
    if not frames.size:
        return audio
    level = np.sqrt((frames**2).mean(axis=1) + 1e-12)
    loud = np.flatnonzero(level > level.max() * 10 ** (floor_db / 20))
    return audio[loud[0] * 160 : (loud[-1] + 1) * 160]


# --- the room and its noise -------------------------------------------------------------
def room_response(rng: np.random.Generator) -> np.ndarray:
    """A synthetic room impulse response: the direct sound, then noise dying away
    exponentially over a reverberation time of 0.15-0.8 s (darker as it decays)."""
    rt60 = rng.uniform(0.15, 0.8)
    n = int(rt60 * RATE)
    t = np.arange(n) / RATE
    tail = rng.normal(0, 1, n) * np.exp(-6.9 * t / rt60)
    tail = np.convolve(tail, np.ones(3) / 3, mode="same")  # walls absorb highs
    response = tail * rng.uniform(0.1, 0.5) / np.sqrt((tail**2).sum())
    response[0] = 1.0
    return response.astype(np.float32)


def reverberate(audio: np.ndarray, response: np.ndarray) -> np.ndarray:
    size = audio.size + response.size - 1
    n = 1 << (size - 1).bit_length()
    wet = np.fft.irfft(np.fft.rfft(audio, n) * np.fft.rfft(response, n), n)[: audio.size]
    return wet.astype(np.float32)


def coloured_noise(n: int, rng: np.random.Generator, colour: str) -> np.ndarray:
    """White, pink (1/f) or brown (1/f²) noise of unit power."""
    white = rng.normal(0, 1, n)
    if colour != "white":
        spectrum = np.fft.rfft(white)
        f = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
        spectrum /= f ** (0.5 if colour == "pink" else 1.0)
        white = np.fft.irfft(spectrum, n)
    return (white / (white.std() + 1e-12)).astype(np.float32)


def babble(n: int, speech: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Several other utterances on top of each other, of unit power."""
    out = np.zeros(n, np.float32)
    for _ in range(int(rng.integers(3, 7))):
        clip = speech[int(rng.integers(len(speech)))]
        clip = np.tile(clip, n // max(clip.size, 1) + 1)[:n]
        out += np.roll(clip, int(rng.integers(n))) * rng.uniform(0.5, 1.0)
    return out / (out.std() + 1e-12)


def power(audio: np.ndarray) -> float:
    return float(np.mean(audio.astype(np.float64) ** 2)) + 1e-12


def in_a_room(
    speech: np.ndarray,
    before_s: float,
    after_s: float,
    rng: np.random.Generator,
    babble_from: list[np.ndarray],
) -> np.ndarray:
    """``speech`` with ``before_s`` and ``after_s`` seconds around it, maybe reverberated,
    in noise (white, pink, brown or babble at 3-30 dB below it, or only a quiet floor) and
    at a level from quiet to loud."""
    clip = np.concatenate(
        [
            np.zeros(int(before_s * RATE), np.float32),
            speech,
            np.zeros(int(after_s * RATE), np.float32),
        ]
    )
    speech_power = power(speech)
    if rng.random() < 0.5:
        clip = reverberate(clip, room_response(rng))
    kind = rng.choice(["none", "white", "pink", "brown", "babble", "babble"])
    if kind == "babble" and babble_from:
        noise = babble(clip.size, babble_from, rng)
    elif kind != "none":
        noise = coloured_noise(clip.size, rng, str(kind))
    else:
        noise = np.zeros(clip.size, np.float32)
    snr_db = rng.uniform(3.0, 30.0)
    clip = clip + noise * np.sqrt(speech_power / 10 ** (snr_db / 10))
    clip += rng.normal(0, 3e-4, clip.size).astype(np.float32)  # the microphone's own hiss
    peak = float(np.abs(clip).max()) + 1e-9
    return (clip * (10 ** rng.uniform(-1.6, -0.1) / peak)).astype(np.float32)


def background(seconds: float, rng: np.random.Generator, babble_from: list[np.ndarray]):
    """Noise with no words in it: white, pink, brown or babble, quiet to loud."""
    n = int(seconds * RATE)
    kind = rng.choice(["white", "pink", "brown", "babble"])
    if kind == "babble" and babble_from:
        noise = babble(n, babble_from, rng)
    else:
        noise = coloured_noise(n, rng, str(kind))
    return (noise * 10 ** rng.uniform(-3.5, -1.2)).astype(np.float32)
