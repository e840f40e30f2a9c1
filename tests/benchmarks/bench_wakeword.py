"""The built-in wake words on real recordings: for each word and probability cut-off, the
false-reject rate on the real recordings of the word (../shared/eval/wakeword, label
``positive:WORD``), the false accepts on the recordings of other words and near misses
(label ``negative``, ``near-miss…``, other words' positives) and on ordinary speech
(../shared/eval/speech), as false accepts per hour, on the assistant's own voice (Piper
reading the README's sentences at several speeds, as a detector with no echo canceller in
front would hear it) and the CPU seconds per audio second.

Every recording set is fed as one continuous stream in the engine's 512-sample frames, with
gaps of quiet room noise (longer than the detector's refractory time between positives, so
each can fire). Each model runs once over each stream; the cut-offs are applied to the
probabilities it gave, with the detector's own refractory rule. ``--minutes`` sets how much
of the assistant's voice is made (default 20).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import numpy as np

from tests.benchmarks.stats import print_table
from tests.conftest import EVAL_DIR, REPO

RATE = 16_000
FRAME = 512
CUTOFFS = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99)
POSITIVE_GAP_S = 2.5  # > the detector's refractory time
OTHER_GAP_S = 0.5
VOICE_RATES = (1.0, 0.85, 1.2, 0.75, 1.4)


def _noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0, 3e-4, int(seconds * RATE)).astype(np.float32)  # about -70 dBFS


def _stream(clips: list[np.ndarray], gap_s: float, seed: int = 0):
    """The clips one after another with quiet gaps; the stream and each clip's span (s)."""
    rng = np.random.default_rng(seed)
    parts, spans, at = [_noise(1.0, rng)], [], 1.0
    for clip in clips:
        parts.append(clip.astype(np.float32))
        spans.append((at, at + clip.size / RATE))
        at += clip.size / RATE + gap_s
        parts.append(_noise(gap_s, rng))
    return np.concatenate(parts), spans


def _scores(name: str, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The model's score at each of its steps, the steps' times (s) and the CPU seconds the
    detector took, fed as the listening thread feeds it."""
    from vistavox.pipelines.speech.wakeword import WakeWordDetector

    detector = WakeWordDetector(name, cutoff=2.0)  # never fires: every score is kept
    times, scores, cpu = [], [], 0.0
    for i in range(0, audio.size - FRAME + 1, FRAME):
        start = time.thread_time()
        got = detector.probabilities(audio[i : i + FRAME])
        cpu += time.thread_time() - start
        end_s = (i + FRAME) / RATE
        times += [end_s] * len(got)
        scores += got
    detector.close()
    return np.array(times), np.array(scores), cpu


def _fires(times: np.ndarray, scores: np.ndarray, cutoff: float) -> list[float]:
    """When a detector with this cut-off fires (its refractory rule)."""
    from vistavox.pipelines.speech.wakeword import REFRACTORY_S

    fired: list[float] = []
    for t in times[scores > cutoff]:
        if not fired or t - fired[-1] > REFRACTORY_S:
            fired.append(float(t))
    return fired


def _detected(times, scores, spans, cutoff: float) -> int:
    """How many positive clips made the detector fire (during the clip or within 1 s
    after it: the score is an average over its last steps)."""
    fires = np.array(_fires(times, scores, cutoff))
    return sum(bool(np.any((fires >= a) & (fires <= b + 1.0))) for a, b in spans)


def _voice_sentences() -> list[str]:
    """Plain sentences of the README (what the assistant might read out), without the
    wake words themselves (the assistant saying its own wake word is the echo canceller's
    job, measured in the tests)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`|\[([^\]]*)\]\([^)]*\)|[*_#>|]", r"\1", text)
    out = []
    for sentence in re.split(r"(?<=[.!?;:])\s+", " ".join(text.split())):
        words = sentence.split()
        if 5 <= len(words) <= 40 and not re.search(r"alexa|jarvis|mycroft|nabu", sentence, re.I):
            out.append(sentence)
    return out


def _assistant_voice(minutes: float) -> np.ndarray:
    from vistavox.pipelines.audio.resample import resample
    from vistavox.pipelines.speech.tts import Synthesizer

    tts = Synthesizer(threads=1)  # (the machine is shared)
    sentences = _voice_sentences()
    rng = np.random.default_rng(0)
    parts, total, i = [], 0.0, 0
    while total < minutes * 60 and i < len(sentences) * len(VOICE_RATES):
        tts.set_rate(VOICE_RATES[i // len(sentences)])
        speech = resample(tts.speak(sentences[i % len(sentences)]), tts.sample_rate, RATE)
        parts += [speech, _noise(rng.uniform(0.2, 0.8), rng)]  # the pauses between phrases
        total += (speech.size + parts[-1].size) / RATE
        i += 1
    return np.concatenate(parts)


def _load(rows: list[dict]) -> list[np.ndarray]:
    from vistavox.pipelines.audio.files import load_audio

    return [load_audio(EVAL_DIR / "wakeword" / r["file"]) for r in rows]


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    from vistavox.pipelines.audio.files import load_audio
    from vistavox.pipelines.speech.wakeword import BUILT_IN

    listing = EVAL_DIR / "wakeword" / "manifest.jsonl"
    if not listing.is_file():
        raise SystemExit(f"evaluation material not found at {listing} (set VISTAVOX_EVAL_DIR)")
    rows = [json.loads(line) for line in listing.read_text().splitlines() if line.strip()]
    speech_rows = [
        json.loads(line)
        for line in (EVAL_DIR / "speech" / "transcripts.jsonl").read_text().splitlines()
        if line.strip()
    ]
    speech, _ = _stream(
        [load_audio(EVAL_DIR / "speech" / r["file"]) for r in speech_rows], OTHER_GAP_S
    )
    minutes = float(os.environ.get("VISTAVOX_BENCH_MINUTES", "20"))
    started = time.monotonic()
    voice = _assistant_voice(minutes)
    print(
        f"made {voice.size / RATE / 60:.1f} min of the assistant's voice in "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    clips = _load(rows)
    result: dict[str, object] = {
        "cutoffs": list(CUTOFFS),
        "speech_hours": round(speech.size / RATE / 3600, 4),
        "voice_hours": round(voice.size / RATE / 3600, 4),
        "words": {},
    }
    table = []
    for name in BUILT_IN:
        positive = [c for c, r in zip(clips, rows, strict=True) if _is_positive(r, name)]
        other = [c for c, r in zip(clips, rows, strict=True) if not _is_positive(r, name)]
        pos_audio, pos_spans = _stream(positive, POSITIVE_GAP_S)
        other_audio, other_spans = _stream(other, OTHER_GAP_S)
        cpu, fed = 0.0, 0.0
        streams = {}
        for label, audio in (
            ("positive", pos_audio),
            ("other", other_audio),
            ("speech", speech),
            ("voice", voice),
        ):
            times, scores, spent = _scores(name, audio)
            streams[label] = (times, scores)
            cpu, fed = cpu + spent, fed + audio.size / RATE
        other_h = other_audio.size / RATE / 3600
        per_cutoff = []
        for cutoff in CUTOFFS:
            detected = _detected(*streams["positive"], pos_spans, cutoff)
            other_clips = _detected(*streams["other"], other_spans, cutoff)
            other_fires = len(_fires(*streams["other"], cutoff))
            speech_fires = len(_fires(*streams["speech"], cutoff))
            voice_fires = len(_fires(*streams["voice"], cutoff))
            entry = {
                "cutoff": cutoff,
                "positives": len(positive),
                "false_reject_rate": round(1 - detected / len(positive), 4),
                "other_clips": len(other),
                "other_clips_fired": other_clips,
                "other_fires_per_hour": round(other_fires / other_h, 1),
                "speech_fires": speech_fires,
                "speech_fires_per_hour": round(speech_fires / (speech.size / RATE / 3600), 1),
                "voice_fires": voice_fires,
                "voice_fires_per_hour": round(voice_fires / (voice.size / RATE / 3600), 1),
            }
            per_cutoff.append(entry)
            table.append(
                {
                    "word": name,
                    "cutoff": cutoff,
                    "positives": len(positive),
                    "FRR %": round(100 * entry["false_reject_rate"], 1),
                    "other clips fired": f"{other_clips}/{len(other)}",
                    "other FA/h": entry["other_fires_per_hour"],
                    "speech FA/h": entry["speech_fires_per_hour"],
                    "voice FA/h": entry["voice_fires_per_hour"],
                }
            )
        result["words"][name] = {
            "phrase": BUILT_IN[name].phrase,
            "default_cutoff": BUILT_IN[name].cutoff,
            "other_hours": round(other_h, 4),
            "cpu_s_per_audio_s": round(cpu / fed, 5),
            # The highest score each stream got (how far below the cut-offs it stays).
            "max_score": {k: round(float(v[1].max()), 4) for k, v in streams.items()},
            "cutoffs": per_cutoff,
        }
    print(
        f"positives: real recordings of each word; other: the {len(rows)} eval recordings less "
        f"the word's own ({result['words']['alexa']['other_hours'] * 60:.1f} min for alexa); "
        f"speech: {speech.size / RATE / 60:.1f} min of ordinary speech; voice: "
        f"{voice.size / RATE / 60:.1f} min of the assistant's voice (no echo canceller)"
    )
    print_table(
        table,
        [
            "word",
            "cutoff",
            "positives",
            "FRR %",
            "other clips fired",
            "other FA/h",
            "speech FA/h",
            "voice FA/h",
        ],  # fmt: skip
    )
    print("CPU seconds per audio second (one core), and the highest score on speech / voice:")
    for name, word in result["words"].items():
        top = word["max_score"]
        print(
            f"  {name}: {word['cpu_s_per_audio_s']:.4f}   {top['speech']:.3f} / {top['voice']:.3f}"
        )
    return result


def _is_positive(row: dict, name: str) -> bool:
    return row["label"].startswith(f"positive:{name}")
