"""A wake word of the user's own: "Hey Vistavox" trained at the app's standard size
(speech/wakeword_training.py), with the time and CPU it took, the figures the trainer
measured on its held-aside synthetic voices (false rejects on recordings of the phrase,
false accepts on other speech and noise, sound-alike phrases accepted), and on real
recordings no one said it in: false accepts per hour on ordinary speech
(../shared/eval/speech), on every recording of the wake-word evaluation set (other wake
words and near misses, ../shared/eval/wakeword) and on the assistant's own voice (Piper
reading the README, ``--minutes``, default 10), at the trained cut-off and others; and the
detector's CPU seconds per audio second.

Each set is fed as one continuous stream in the engine's 512-sample frames, as in the
built-in words' benchmark (bench_wakeword.py).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.benchmarks.bench_wakeword import (
    FRAME,
    OTHER_GAP_S,
    RATE,
    VOICE_RATES,
    _fires,
    _stream,
    _voice_sentences,
)
from tests.benchmarks.stats import print_table
from tests.conftest import EVAL_DIR

PHRASE = "Hey Vistavox"
CUTOFFS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)


def _scores(detector, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    times, scores, cpu = [], [], 0.0
    for i in range(0, audio.size - FRAME + 1, FRAME):
        start = time.thread_time()
        got = detector.probabilities(audio[i : i + FRAME])
        cpu += time.thread_time() - start
        times += [(i + FRAME) / RATE] * len(got)
        scores += got
    detector.reset()
    return np.array(times), np.array(scores), cpu


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    from vistavox.pipelines.audio.files import load_audio
    from vistavox.pipelines.speech.wakeword import WakeWordDetector
    from vistavox.pipelines.speech.wakeword_training import STANDARD, describe, train_wake_word

    with tempfile.TemporaryDirectory() as home:
        os.environ["XDG_DATA_HOME"] = home  # the trained word goes here, not to the user's
        started, cpu_started = time.monotonic(), time.process_time()
        word = train_wake_word(PHRASE, size=STANDARD)
        train_wall = time.monotonic() - started
        train_cpu = time.process_time() - cpu_started
        word.save()
        print(describe(word), flush=True)
        print(f"trained in {train_wall:.0f} s ({train_cpu:.0f} CPU s)", flush=True)
        detector = WakeWordDetector(word.name, cutoff=2.0)  # never fires: every score kept

        streams: dict[str, tuple[np.ndarray, list, list[str]]] = {}  # audio, spans, what
        if (EVAL_DIR / "speech" / "transcripts.jsonl").is_file():
            rows = _rows(EVAL_DIR / "speech" / "transcripts.jsonl")
            clips = [load_audio(EVAL_DIR / "speech" / r["file"]) for r in rows]
            streams["speech"] = (*_stream(clips, OTHER_GAP_S), [r["file"] for r in rows])
        if (EVAL_DIR / "wakeword" / "manifest.jsonl").is_file():
            rows = _rows(EVAL_DIR / "wakeword" / "manifest.jsonl")
            clips = [load_audio(EVAL_DIR / "wakeword" / r["file"]) for r in rows]
            labels = [f"{r['label']}: {r['file']}" for r in rows]
            streams["wakeword-set"] = (*_stream(clips, OTHER_GAP_S), labels)
        minutes = float(os.environ.get("VISTAVOX_BENCH_MINUTES", "10"))
        streams["voice"] = _assistant_voice(minutes)
        result: dict[str, object] = {
            "phrase": PHRASE,
            "train_wall_s": round(train_wall, 1),
            "train_cpu_s": round(train_cpu, 1),
            "cutoff": word.cutoff,
            "synthetic": word.figures,
            "real": {},
        }
        cpu, fed, table = 0.0, 0.0, []
        for label, (audio, spans, what) in streams.items():
            times, scores, spent = _scores(detector, audio)
            cpu, fed = cpu + spent, fed + audio.size / RATE
            hours = audio.size / RATE / 3600
            per_cutoff = {}
            for cutoff in sorted({*CUTOFFS, word.cutoff}):
                fires = len(_fires(times, scores, cutoff))
                per_cutoff[str(cutoff)] = {"fires": fires, "per_hour": round(fires / hours, 1)}
                table.append(
                    {
                        "stream": label,
                        "minutes": round(hours * 60, 1),
                        "cutoff": cutoff,
                        "fires": fires,
                        "FA/h": round(fires / hours, 1),
                    }
                )
            # What it fired on at its own cut-off (the clip each firing falls in or just after).
            fired_on = []
            for when in _fires(times, scores, word.cutoff):
                near = [i for i, (a, b) in enumerate(spans) if a <= when <= b + 1.0]
                fired_on.append(what[near[0]] if near else f"between clips at {when:.1f} s")
            result["real"][label] = {
                "hours": round(hours, 4),
                "fired_on": fired_on,
                "max_score": round(float(scores.max()), 4) if scores.size else 0.0,
                "cutoffs": per_cutoff,
            }
        result["cpu_s_per_audio_s"] = round(cpu / fed, 5) if fed else None
    print_table(table, ["stream", "minutes", "cutoff", "fires", "FA/h"])
    print(f"CPU seconds per audio second (one core): {result['cpu_s_per_audio_s']}")
    return result


def _assistant_voice(minutes: float) -> tuple[np.ndarray, list, list[str]]:
    """The assistant's voice reading the README's sentences (not those with the phrase in
    them: saying the word is no false accept) at several speeds, with each sentence's span."""
    from vistavox.pipelines.audio.resample import resample
    from vistavox.pipelines.speech.tts import Synthesizer

    tts = Synthesizer(threads=1)
    sentences = [s for s in _voice_sentences() if PHRASE.lower() not in s.lower()]
    clips, what, total, i = [], [], 0.0, 0
    while total < minutes * 60 and i < len(sentences) * len(VOICE_RATES):
        tts.set_rate(VOICE_RATES[i // len(sentences)])
        clips.append(resample(tts.speak(sentences[i % len(sentences)]), tts.sample_rate, RATE))
        what.append(sentences[i % len(sentences)])
        total += clips[-1].size / RATE + 0.5
        i += 1
    return (*_stream(clips, 0.5), what)


def _rows(listing: Path) -> list[dict]:
    return [json.loads(line) for line in listing.read_text().splitlines() if line.strip()]
