"""Word error rate and decode time of speech recognition settings on ../shared/eval/speech.

Each recording is cut the way the conversation engine hands an utterance over at the
user's pause: the speech (Silero VAD) with ``LEAD_S`` before it, as the engine's preroll
keeps, and ``TAIL_S`` after it. Every setting decodes every clip ``repeat`` times, the
settings taking turns so that other work on the CPU falls on all of them alike; a clip's
time is the median of its repeats, and the table gives the median and 95th percentile of
those over the clips. Word error rates are over the whole corpus, with two normalisers: the
test suite's (``tests.conftest.normalise_words``) and a fairer one that also reads "Mr." as
"mister" and drops the speaker labels of the diarization clip's reference ("[spk1]").

Sixteen clips of sentences say little about one- and two-word utterances ("stop", "next
page"), where a shortened encoder window is most at risk; a second table decodes the short
recordings of ../shared/eval/wakeword (many speakers saying "alexa", "jarvis", "computer",
...) once with a few of the settings, against the phrase each recording is known to say.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tests.benchmarks.stats import print_table, summary
from tests.conftest import EVAL_DIR, normalise_words

LEAD_S = 0.3  # EngineSettings.preroll_s
TAIL_S = 0.2  # the endpointer's pause (96 ms) and the VAD's lag
_TITLES = {"mr": "mister", "mrs": "missus", "dr": "doctor"}


def fair_words(text: str) -> str:
    """``normalise_words`` after dropping bracketed speaker labels and spelling out titles."""
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(
        r"\b(mrs?|dr)\b\.?", lambda m: f" {_TITLES[m.group(1).lower()]} ", text, flags=re.I
    )
    return normalise_words(text)


def corpus_wer(refs: list[str], hyps: list[str], norm: Callable[[str], str]) -> float:
    import jiwer

    return round(float(jiwer.wer([norm(r) for r in refs], [norm(h) for h in hyps])), 4)


def engine_cut(audio: np.ndarray, rate: int) -> np.ndarray:
    """The utterance as the engine would pass it on: speech plus preroll and a short tail."""
    from vistavox.pipelines.speech.vad import TrimSettings, speech_spans

    spans = speech_spans(audio, TrimSettings(pad_ms=0, min_silence_ms=2000))
    if not spans:
        return audio
    start = max(0, spans[0].start - int(LEAD_S * rate))
    return audio[start : min(audio.size, spans[-1].end + int(TAIL_S * rate))]


@dataclass
class Variant:
    """One setting: Transcriber settings, plus what the engine or faster-whisper does
    differently (a hint, options of ``WhisperModel.transcribe`` for the 30 s loop, fixed
    window sizes)."""

    name: str
    settings_changes: dict[str, object] = field(default_factory=dict)
    hint: bool = False
    full_options: dict[str, object] = field(default_factory=dict)
    window_sizes_s: tuple[float, ...] = ()


def variants() -> list[Variant]:
    full: dict[str, object] = {"min_window_s": None}
    old = {**full, "temperature_fallback": True}
    return [
        Variant("30 s, beam 1 (old default)", old),
        Variant("30 s, beam 2", {**old, "beam_size": 2}),
        Variant("30 s, beam 5", {**old, "beam_size": 5}),
        Variant("30 s, timestamps", old, full_options={"without_timestamps": False}),
        Variant(
            "30 s, condition_on_previous_text",
            old,
            full_options={"condition_on_previous_text": True},
        ),
        Variant("30 s, no temperature fallback", full),
        Variant("30 s, vad_filter", old, full_options={"vad_filter": True}),
        Variant("30 s, hint", old, hint=True),
        Variant("30 s, float32", {**old, "compute_type": "float32"}),
        Variant("30 s, 1 thread", {**old, "cpu_threads": 1}),
        Variant("fit ≥5 s, no timestamps", {"min_window_s": 5.0, "timestamps": False}),
        Variant("fit ≥10 s, no timestamps", {"min_window_s": 10.0, "timestamps": False}),
        Variant("fit ≥5 s, timestamps", {"min_window_s": 5.0}),
        Variant("fit ≥10 s, timestamps", {"min_window_s": 10.0}),
        Variant("fit ≥15 s, timestamps", {"min_window_s": 15.0}),
        Variant("sizes 5/10/15/20 s, timestamps", window_sizes_s=(5.0, 10.0, 15.0, 20.0)),
        Variant("sizes 10/20 s, timestamps", window_sizes_s=(10.0, 20.0)),
        Variant("new default", {}),
        Variant("new default, margin 1 s", {"window_margin_s": 1.0}),
        Variant("new default, beam 2", {"beam_size": 2}),
        Variant("new default, beam 5", {"beam_size": 5}),
        Variant("new default, temperature fallback", {"temperature_fallback": True}),
        Variant("new default, hint", hint=True),
        Variant("new default, int8_float32", {"compute_type": "int8_float32"}),
        Variant("new default, float32", {"compute_type": "float32"}),
        Variant("new default, 1 thread", {"cpu_threads": 1}),
    ]


SHORT_WORD_VARIANTS = ("30 s, beam 1 (old default)", "fit ≥5 s, timestamps", "new default")


def make_transcriber(variant: Variant):
    from vistavox.pipelines.speech.stt import SttSettings, Transcriber

    class Measured(Transcriber):
        """Counts decodes that went (back) to faster-whisper's own 30 s loop."""

        full_decodes = 0

        def window_frames(self, samples: int) -> int | None:
            if not variant.window_sizes_s:
                return super().window_frames(samples)
            features = self._model.feature_extractor
            per_second = features.sampling_rate / features.hop_length
            needed = samples / features.hop_length + self.settings.window_margin_s * per_second
            sizes = [round(s * per_second) for s in variant.window_sizes_s]
            return next((size for size in sizes if size >= needed), None)

        def _transcribe_full(self, audio, hint, **options):
            self.full_decodes += 1
            return super()._transcribe_full(audio, hint, **variant.full_options, **options)

    return Measured(settings=replace(SttSettings(), **variant.settings_changes))


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    from vistavox.pipelines.audio.files import SPEECH_RATE, load_audio
    from vistavox.pipelines.pages.editor import VOCABULARY

    listing = EVAL_DIR / "speech" / "transcripts.jsonl"
    if not listing.is_file():
        raise SystemExit(f"{listing} not found: the STT benchmark needs ../shared/eval/speech")
    clips = [json.loads(line) for line in listing.read_text().splitlines() if line.strip()]
    audio = {
        c["file"]: engine_cut(load_audio(EVAL_DIR / "speech" / c["file"]), SPEECH_RATE)
        for c in clips
    }
    refs = [c["transcript"] for c in clips]

    chosen = variants()
    models = {}
    for v in chosen:
        models[v.name] = make_transcriber(v)
        models[v.name].full_decodes = 0  # (not the warm-up)
    texts: dict[str, list[str]] = {v.name: [] for v in chosen}
    times: dict[str, list[list[float]]] = {v.name: [[] for _ in clips] for v in chosen}
    for rep in range(max(1, repeat)):
        for v in chosen:
            stt = models[v.name]
            for i, clip in enumerate(clips):
                t = time.perf_counter()
                text = stt.transcribe(audio[clip["file"]], hint=VOCABULARY if v.hint else None).text
                times[v.name][i].append(time.perf_counter() - t)
                if rep == 0:
                    texts[v.name].append(text)
        print(f"repeat {rep + 1}/{max(1, repeat)} done", flush=True)

    configs = {}
    for v in chosen:
        secs = [float(np.median(t)) for t in times[v.name]]
        hyps = texts[v.name]
        configs[v.name] = {
            "settings": {**vars(models[v.name].settings)},
            "hint": v.hint,
            "full_options": v.full_options,
            "window_sizes_s": list(v.window_sizes_s),
            "wer": corpus_wer(refs, hyps, normalise_words),
            "wer_fair": corpus_wer(refs, hyps, fair_words),
            "decode_s": summary(secs),
            "full_window_decodes_per_repeat": round(
                models[v.name].full_decodes / max(1, repeat), 2
            ),
            "clips": [
                {
                    "file": clip["file"],
                    "audio_s": round(audio[clip["file"]].size / SPEECH_RATE, 2),
                    "decode_s": round(sec, 4),
                    "wer_fair": corpus_wer([clip["transcript"]], [hyp], fair_words),
                    "heard": hyp,
                }
                for clip, sec, hyp in zip(clips, secs, hyps, strict=True)
            ],
        }
    print_table(
        [
            {
                "setting": name,
                "WER": c["wer"],
                "WER fair": c["wer_fair"],
                "median s": c["decode_s"]["median"],
                "p95 s": c["decode_s"]["p95"],
                "30 s decodes": c["full_window_decodes_per_repeat"],
            }
            for name, c in configs.items()
        ],
        ["setting", "WER", "WER fair", "median s", "p95 s", "30 s decodes"],
    )
    short_words = run_short_words({n: models[n] for n in SHORT_WORD_VARIANTS})
    return {
        "clips": len(clips),
        "cut": {"lead_s": LEAD_S, "tail_s": TAIL_S},
        "model": models[chosen[0].name].model_info.spec.name,
        "configs": configs,
        "short_words": short_words,
    }


def run_short_words(models: dict[str, object]) -> dict[str, object]:
    """Word error rate and decode time on the wake-word recordings, decoded once."""
    from vistavox.pipelines.audio.files import SPEECH_RATE, load_audio

    listing = EVAL_DIR / "wakeword" / "manifest.jsonl"
    if not listing.is_file():
        print(f"note: {listing} not found; no short-word table")
        return {}
    rows = [json.loads(line) for line in listing.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if re.fullmatch(r"[a-z ]+", r["phrase"])]  # known, plain phrases
    audio = [engine_cut(load_audio(EVAL_DIR / "wakeword" / r["file"]), SPEECH_RATE) for r in rows]
    refs = [r["phrase"] for r in rows]
    results = {}
    for name, stt in models.items():
        stt.full_decodes = 0
        hyps, secs = [], []
        for samples in audio:
            t = time.perf_counter()
            hyps.append(stt.transcribe(samples).text)
            secs.append(time.perf_counter() - t)
        results[name] = {
            # (an empty transcript counts as one wrong word, not as no words)
            "wer_fair": corpus_wer(refs, [h or "(nothing)" for h in hyps], fair_words),
            "decode_s": summary(secs),
            "full_window_decodes": stt.full_decodes,
            "empty": sum(not h for h in hyps),
        }
    print(f"short words: {len(rows)} wake-word recordings, decoded once")
    print_table(
        [
            {
                "setting": name,
                "WER fair": r["wer_fair"],
                "median s": r["decode_s"]["median"],
                "p95 s": r["decode_s"]["p95"],
                "30 s decodes": r["full_window_decodes"],
                "empty": r["empty"],
            }
            for name, r in results.items()
        ],
        ["setting", "WER fair", "median s", "p95 s", "30 s decodes", "empty"],
    )
    return {"recordings": len(rows), "configs": results}
