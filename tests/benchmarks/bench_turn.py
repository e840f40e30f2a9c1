"""Per-stage latency of the headless voice turn (`vistavox reply` without the process start).

Questions: the shipped sample question and the real recordings in ../shared/eval/speech
(when present). Each is answered ``repeat`` times with models loaded once.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.benchmarks.stats import print_table, summary
from tests.conftest import EVAL_DIR, REPO

STAGES = [
    ("decode_s", "decode file"),
    ("vad_s", "VAD trim"),
    ("stt_s", "STT"),
    ("llm_first_token_new_s", "LLM first token (new question)"),
    ("llm_first_token_s", "LLM first token (all)"),
    ("llm_s", "LLM whole reply"),
    ("tts_first_audio_s", "TTS first audio"),
    ("first_audio_after_input_s", "input → first audio"),
    ("total_s", "whole turn"),
]
RATES = [("llm_tokens_per_s", "LLM tokens/s"), ("tts_real_time_factor", "TTS real-time factor")]


def question_files() -> list[Path]:
    files = [REPO / "resources" / "samples" / "question.wav"]
    speech = EVAL_DIR / "speech"
    if speech.is_dir():
        files += sorted(speech.glob("*.wav"))
    else:
        print(f"note: {speech} not found; only the sample question is used")
    return files


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    from vistavox.pipelines.audio.files import load_audio
    from vistavox.pipelines.errors import NoSpeechError
    from vistavox.pipelines.kernel.local_llm import LocalLlm
    from vistavox.pipelines.speech.stt import Transcriber
    from vistavox.pipelines.speech.tts import Synthesizer
    from vistavox.pipelines.voice_models import VoiceModels
    from vistavox.pipelines.voice_turn import run_voice_turn

    loads = {}
    t = time.perf_counter()
    stt = Transcriber()
    loads["stt_load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    llm = LocalLlm()
    loads["llm_load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    tts = Synthesizer()
    loads["tts_load_s"] = time.perf_counter() - t
    models = VoiceModels(stt=stt, llm=llm, tts=tts)

    samples: dict[str, list[float | None]] = {key: [] for key, _ in STAGES + RATES}
    turns = []
    for path in question_files():
        for rep in range(repeat):
            t = time.perf_counter()
            audio = load_audio(path)
            decode_s = time.perf_counter() - t
            try:
                result = run_voice_turn(models, audio)
            except NoSpeechError:
                continue
            figures = result.timings.as_dict()
            figures["decode_s"] = decode_s
            # Repeats of one question hit llama.cpp's prompt cache entirely; the first
            # run of each question reuses only the cached system prompt.
            figures["llm_first_token_new_s"] = figures["llm_first_token_s"] if rep == 0 else None
            for key in samples:
                samples[key].append(figures.get(key))
            turns.append(
                {
                    "file": path.name,
                    "heard": result.transcript,
                    "reply": result.reply,
                    **{k: figures.get(k) for k in samples},
                }
            )

    rows = [{"stage": label, **summary(samples[key])} for key, label in STAGES + RATES]
    print_table(rows, ["stage", "n", "median", "p95", "min", "max"])
    print("model loads: " + ", ".join(f"{k} {v:.2f}" for k, v in loads.items()))
    _plot(rows[: len(STAGES) - 2], results_dir / "turn.png")
    return {
        "unit": "seconds (rates: tokens/s and synthesis seconds per audio second)",
        "repeat": repeat,
        "models": {
            "stt": stt.model_info.spec.name,
            "llm": llm.model_info.spec.name,
            "tts": tts.model_info.spec.name,
        },
        "loads": {k: round(v, 3) for k, v in loads.items()},
        "stages": {key: summary(samples[key]) for key, _ in STAGES + RATES},
        "turns": turns,
    }


def _plot(rows: list[dict[str, object]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [str(r["stage"]) for r in rows]
    medians = [float(r["median"] or 0) * 1000 for r in rows]
    p95 = [float(r["p95"] or 0) * 1000 for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(labels, p95, color="#c8d7f0", label="p95")
    ax.barh(labels, medians, color="#2f6fd0", label="median")
    ax.invert_yaxis()
    ax.set_xlabel("milliseconds")
    ax.set_title("Headless voice turn: per-stage latency")
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")
