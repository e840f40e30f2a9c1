"""Word error rate and real-time factor of speech recognition on ../shared/eval/speech."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.benchmarks.stats import print_table, summary
from tests.conftest import EVAL_DIR, word_error_rate


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    from vistavox.pipelines.audio.files import SPEECH_RATE, load_audio
    from vistavox.pipelines.speech.stt import SttSettings, Transcriber

    listing = EVAL_DIR / "speech" / "transcripts.jsonl"
    if not listing.is_file():
        raise SystemExit(f"{listing} not found: the STT benchmark needs ../shared/eval/speech")
    clips = [json.loads(line) for line in listing.read_text().splitlines() if line.strip()]
    audio = {c["file"]: load_audio(EVAL_DIR / "speech" / c["file"]) for c in clips}

    configs = {}
    for beam in (1, 5):
        stt = Transcriber(settings=SttSettings(beam_size=beam))
        stt.transcribe(audio[clips[0]["file"]])  # warm-up
        rows, refs, hyps, rtfs, secs = [], [], [], [], []
        for clip in clips:
            samples = audio[clip["file"]]
            times = []
            for _ in range(max(1, repeat // 2)):
                t = time.perf_counter()
                text = stt.transcribe(samples).text
                times.append(time.perf_counter() - t)
            best = min(times)
            seconds = samples.size / SPEECH_RATE
            refs.append(clip["transcript"])
            hyps.append(text)
            rtfs.append(best / seconds)
            secs.append(best)
            rows.append(
                {
                    "file": clip["file"],
                    "audio_s": round(seconds, 2),
                    "decode_s": round(best, 3),
                    "wer": word_error_rate(clip["transcript"], text),
                    "heard": text,
                }
            )
        name = f"{stt.model_info.spec.name} int8 beam {beam}"
        configs[name] = {
            "corpus_wer": round(word_error_rate(refs, hyps), 4),
            "decode_s": summary(secs),
            "real_time_factor": summary(rtfs),
            "clips": rows,
        }
    print_table(
        [
            {
                "config": k,
                "WER": v["corpus_wer"],
                "decode median s": v["decode_s"]["median"],
                "decode p95 s": v["decode_s"]["p95"],
                "RTF median": v["real_time_factor"]["median"],
            }
            for k, v in configs.items()
        ],
        ["config", "WER", "decode median s", "decode p95 s", "RTF median"],
    )
    return {"clips": len(clips), "configs": configs}
