"""The wake word ("Okay Nabu", "Hey Jarvis", "Hey Mycroft", "Alexa", or one the user trained:
speech/trained_wakeword.py): hearing it in the listening thread's 16 kHz frames with
pymicro-wakeword's microWakeWord models (their own TensorFlow Lite runtime, offline) or the
trained word's network, and taking it out of the words the user said after it.

The cut-offs below were picked from ``python -m tests.benchmarks wakeword`` (false rejects on
real recordings of each word against false accepts on ordinary speech and on the
assistant's own voice; tests/benchmarks/results/wakeword.json).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import VistavoxError

_RATE = 16_000
REFRACTORY_S = 2.0  # one utterance of the word fires once (its probability stays high)


class WakeWord(Protocol):
    """What the engine needs of a wake word: fed every 16 kHz frame it hears, True when
    the word was just spoken; its words (to take out of the transcript)."""

    phrase: str

    def __call__(self, frame: np.ndarray) -> bool: ...

    def reset(self) -> None: ...


@dataclass(frozen=True)
class BuiltIn:
    """A wake word that ships with pymicro-wakeword."""

    phrase: str  # as it is shown and said
    cutoff: float  # the probability cut-off at the default sensitivity (measured)


BUILT_IN: dict[str, BuiltIn] = {
    "okay_nabu": BuiltIn("Okay Nabu", 0.95),
    "hey_jarvis": BuiltIn("Hey Jarvis", 0.97),
    "hey_mycroft": BuiltIn("Hey Mycroft", 0.97),
    "alexa": BuiltIn("Alexa", 0.95),
}
# The only word with enough real recordings (140, many speakers) to measure its false
# rejects: 2.1 % at 0.95, with no false accept on any other recording, speech or voice.
DEFAULT_WAKE_WORD = "alexa"
DEFAULT_SENSITIVITY = 0.5


class WakeWordError(VistavoxError, ValueError):
    """A wake word that cannot be used as asked."""


class UnknownWakeWord(WakeWordError):
    """A wake word that is not built in."""


def wake_word_name(name: str) -> str:
    """The built-in word ``name`` ("okay_nabu", "Okay Nabu", "okay-nabu") or a trained one
    ("hey-vistavox", "Hey Vistavox"), or UnknownWakeWord naming the ones there are."""
    from .trained_wakeword import slug, trained_words

    key = re.sub(r"[\s-]+", "_", name.strip().lower())
    if key in BUILT_IN:
        return key
    trained = trained_words()
    if slug(name) in trained:
        return slug(name)
    known = ", ".join(BUILT_IN) + (f"; trained: {', '.join(trained)}" if trained else "")
    raise UnknownWakeWord(f"unknown wake word {name!r} (built in: {known})")


def cutoff_for(name: str, sensitivity: float, default: float | None = None) -> float:
    """The probability cut-off for ``sensitivity`` in [0, 1]: 0.5 is the measured default;
    each 0.5 towards 1 (more sensitive) multiplies its distance from 1 by 4, each 0.5
    towards 0 divides it by 4 (the models' scores for the word crowd close to 1). A trained
    word's ``default`` is moved as far in log-odds (its scores need not crowd near 1)."""
    if not 0.0 <= sensitivity <= 1.0:
        raise WakeWordError(f"a wake word sensitivity of {sensitivity} is out of range (0-1)")
    if default is not None:
        logit = math.log(default / (1.0 - default)) - (2.0 * sensitivity - 1.0) * math.log(4.0)
        return 1.0 / (1.0 + math.exp(-logit))
    default = BUILT_IN[wake_word_name(name)].cutoff
    return 1.0 - (1.0 - default) * 4.0 ** (2.0 * sensitivity - 1.0)


class WakeWordDetector:
    """A built-in or trained wake word, heard in consecutive 16 kHz float32 frames of any
    length.

    ``sensitivity`` (0-1) maps onto the model's probability cut-off (see ``cutoff_for``);
    ``cutoff`` sets it directly (for measuring). Cheap per frame: a built-in word computes
    features every 10 ms and one small quantised network every 30 ms; a trained word one
    speech embedding and a small network every 80 ms."""

    def __init__(
        self,
        name: str = DEFAULT_WAKE_WORD,
        sensitivity: float = DEFAULT_SENSITIVITY,
        *,
        cutoff: float | None = None,
    ) -> None:
        self.name = wake_word_name(name)
        self._heard_s = 0.0  # audio fed so far
        self._fired_s = float("-inf")  # when the word last fired
        if self.name not in BUILT_IN:
            self._trained = _load_trained(self.name)
            self.phrase = self._trained.word.phrase
            default = self._trained.word.cutoff
            self.cutoff = cutoff_for(self.name, sensitivity, default) if cutoff is None else cutoff
            return
        from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model

        self._trained = None
        self.phrase = BUILT_IN[self.name].phrase
        self.cutoff = cutoff_for(self.name, sensitivity) if cutoff is None else cutoff
        self._model = MicroWakeWord.from_builtin(Model(self.name))
        self._features = MicroWakeWordFeatures()

    def __call__(self, frame: np.ndarray) -> bool:
        """Feed one frame; True if the word was just heard (once per utterance of it)."""
        fired = False
        for probability in self.probabilities(frame):
            if probability > self.cutoff and self._heard_s - self._fired_s > REFRACTORY_S:
                self._fired_s = self._heard_s
                fired = True
        return fired

    def probabilities(self, frame: np.ndarray) -> list[float]:
        """Feed one frame; the model's scores for the steps it completed (every 30 ms; a
        trained word's every 80 ms)."""
        if self._trained is not None:
            self._heard_s += frame.size / _RATE
            return self._trained.probabilities(np.clip(frame, -1.0, 1.0))
        pcm = (np.clip(frame, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        self._heard_s += frame.size / _RATE
        out = []
        for features in self._features.process_streaming(pcm):
            probability = self._model.process_streaming_prob(features)
            if probability is not None:
                out.append(probability)
        return out

    def reset(self) -> None:
        """Forget what was heard (the model's recurrent state too)."""
        if self._trained is not None:
            self._trained.reset()
        else:
            self._model.reset()
            self._features.reset()
        self._fired_s = float("-inf")

    def close(self) -> None:
        if self._trained is None:
            self._model.close()


def _load_trained(name: str):
    """The trained word ``name``'s scorer, or WakeWordError if its file cannot be read."""
    from .trained_wakeword import TrainedScorer, TrainedWord, trained_words

    path = trained_words()[name]
    try:
        return TrainedScorer(TrainedWord.load(path))
    except (OSError, ValueError, KeyError) as exc:
        raise WakeWordError(f"the trained wake word in {path} cannot be read ({exc})") from exc


# --- the word in the transcript --------------------------------------------------------
_SIMILAR = 0.75  # letters this alike (difflib's ratio) are the wake word as the recogniser
# heard it ("Hey Travis", "Lexa"), and not another word ("about" for "Nabu": 0.67)
_WORD = re.compile(r"[\w']+")


def strip_wake_word(text: str, phrase: str) -> str:
    """``text`` without the wake word it starts with: "Alexa, what time is it?" → "What
    time is it?". The recogniser spells the word its own way ("Okay, Nabu.", "OK Nabu",
    "Hey, Jarvis", "Lexa") or hears only its last word (the turn starts as the word is
    recognised), so the first words are compared by their letters with the phrase and with
    its endings at word boundaries. Text that is only the wake word becomes empty."""
    names = phrase.split()
    targets = {_letters(" ".join(names[i:])) for i in range(len(names))}
    words = list(_WORD.finditer(text))
    best, end = _SIMILAR, 0  # the first words most like the phrase (or one of its endings)
    for count in range(1, min(len(words), len(names) + 1) + 1):
        said = _letters(" ".join(w.group() for w in words[:count]))
        alike = max(difflib.SequenceMatcher(None, said, t).ratio() for t in targets)
        if alike > best or (alike == best and not end):
            best, end = alike, words[count - 1].end()
    if not end:
        return text.strip()
    rest = text[end:].lstrip(" ,.!?;:-\u2014\u2013\u2026")
    return rest[:1].upper() + rest[1:] if rest else ""


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", re.sub(r"\bok\b", "okay", text.lower()))
