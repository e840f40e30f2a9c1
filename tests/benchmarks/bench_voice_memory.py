"""Memory and threads over a long hands-free conversation (an hour by default): the file
runner looping the real recordings in ../shared/eval/speech and spoken questions into the
real-time engine (tests/voice_soak.py), with the app's own models and settings.

Resident memory should stay flat after the warm-up (the first 3 minutes, or the first 20 %
of a shorter run): growth <= 30 MB, and the thread count constant. Printed and written to
results/voice-memory.json, with a plot of RSS and threads over time (voice_memory.png).
``--minutes`` sets the length; ``--tracemalloc`` adds the biggest Python growths (its own
memory is then in the RSS figures).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.benchmarks import app_llm_name
from tests.benchmarks.stats import print_table
from tests.voice_soak import (
    QUESTIONS,
    SoakResult,
    interleave,
    real_clips,
    run_soak,
    samples_as_dicts,
    spoken_questions,
)

DEFAULT_MINUTES = 60.0
MAX_GROWTH_MB = 30.0  # the bound for RSS growth after the warm-up
SAMPLE_EVERY_S = 5.0


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    del repeat  # one long run
    from vistavox.pipelines.voice_turn import VoiceModels

    minutes = float(os.environ.get("VISTAVOX_BENCH_MINUTES") or DEFAULT_MINUTES)
    trace = bool(os.environ.get("VISTAVOX_BENCH_TRACEMALLOC"))
    models = VoiceModels.load_defaults(app_llm_name())
    print(f"language model: {models.llm.model_info.spec.name}", flush=True)
    recordings = real_clips()
    if not recordings:
        print("note: no real recordings found (../shared/eval/speech): spoken questions only")
    clips = interleave(spoken_questions(models, QUESTIONS), recordings)
    print(
        f"{len(clips)} clips ({sum(c.seconds for c in clips):.0f} s of speech) in a loop "
        f"for {minutes:g} min; a line a minute",
        flush=True,
    )
    started = time.monotonic()

    def progress(sample) -> None:
        if int(sample.t_s) % 60 < SAMPLE_EVERY_S and sample.t_s >= 1:
            print(
                f"  {sample.t_s / 60:5.1f} min  RSS {sample.rss_mb:7.1f} MB  threads "
                f"{sample.threads} ({sample.os_threads} OS)  answered {sample.answered}",
                flush=True,
            )

    result = run_soak(
        models,
        clips,
        duration_s=minutes * 60,
        sample_every_s=SAMPLE_EVERY_S,
        trace_malloc=trace,
        on_sample=progress,
    )
    figures = result.figures()
    flat = figures["rss_growth_mb"] <= MAX_GROWTH_MB
    # The engine's own threads (the kernel's summarisers come and go), and all of them at
    # rest at the end against the end of the warm-up.
    persistent = {result.persistent_threads(s) for s in result.after_warmup}
    steady = len(persistent) == 1 and (
        (figures["threads_end"], figures["os_threads_end"])
        == (figures["threads_warm"], figures["os_threads_warm"])
    )
    rows = [
        {"figure": "RSS at the end of the warm-up (MB)", "value": figures["rss_warm_mb"]},
        {"figure": "RSS at the end (MB)", "value": figures["rss_end_mb"]},
        {
            "figure": f"RSS growth after warm-up (MB, bound {MAX_GROWTH_MB:g})",
            "value": figures["rss_growth_mb"],
        },
        {"figure": "RSS max (MB)", "value": figures["rss_max_mb"]},
        {"figure": "RSS trend after warm-up (MB/hour)", "value": figures["rss_trend_mb_per_hour"]},
        {
            "figure": "RSS growth, glibc free memory returned (MB)",
            "value": figures["trimmed_rss_growth_mb"],
        },
        {"figure": "numpy buffers held, growth (MB)", "value": figures["arrays_growth_mb"]},
        {
            "figure": "Python threads min/max (summarisers max)",
            "value": f"{figures['threads_min']}/{figures['threads_max']} "
            f"({figures['summary_threads_max']})",
        },
        {
            "figure": "Python threads warm/end",
            "value": f"{figures['threads_warm']}/{figures['threads_end']}",
        },
        {
            "figure": "OS threads min/max",
            "value": f"{figures['os_threads_min']}/{figures['os_threads_max']}",
        },
        {
            "figure": "turns heard / answered / cut off",
            "value": "/".join(
                str(figures[k]) for k in ("turns_heard", "turns_answered", "replies_cut")
            ),
        },
        {"figure": "turns answered after warm-up", "value": figures["turns_answered_after_warmup"]},
        {"figure": "longest phrase spoken (words)", "value": figures["longest_phrase_words"]},
    ]
    print_table(rows, ["figure", "value"])
    print(f"memory flat after warm-up (growth <= {MAX_GROWTH_MB:g} MB): {'yes' if flat else 'NO'}")
    print(f"thread count constant: {'yes' if steady else 'NO'}")
    if figures["errors"]:
        print("engine errors: " + "; ".join(figures["errors"]))
    if result.top_growth:
        print("biggest Python growths after warm-up (tracemalloc):")
        for line in result.top_growth:
            print("  " + line)
    _plot(result, results_dir / "voice_memory.png")
    return {
        "unit": "MB (RSS: VmRSS from /proc/self/status), seconds, counts",
        "minutes": minutes,
        "models": {
            "stt": models.stt.model_info.spec.name,
            "llm": models.llm.model_info.spec.name,
            "tts": models.tts.model_info.spec.name,
        },
        "clips": [c.name for c in clips],
        "bound_mb": MAX_GROWTH_MB,
        "flat": flat,
        "threads_constant": steady,
        "figures": figures,
        "longest_phrase": result.longest_phrase,
        "tracemalloc_top_growth": result.top_growth,
        "samples": samples_as_dicts(result),
        "run_s": round(time.monotonic() - started, 1),
    }


def _plot(result: SoakResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = result.samples
    minutes = [s.t_s / 60 for s in samples]
    warm, end = result.warm.sample, result.end.sample
    fig, (top, middle, bottom) = plt.subplots(
        3, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.3, 1.3]}
    )
    for ax in (top, middle, bottom):
        ax.axvspan(0, result.warmup_s / 60, color="#eeeeee", label="_warm-up")
        ax.grid(alpha=0.3)
    top.plot(minutes, [s.rss_mb for s in samples], color="#2f6fd0", lw=1.2, label="RSS")
    top.axhline(
        warm.rss_mb + MAX_GROWTH_MB,
        color="#d04f2f",
        ls="--",
        lw=1,
        label=f"warm-up end + {MAX_GROWTH_MB:g} MB",
    )
    top.plot(
        [warm.t_s / 60, end.t_s / 60],
        [warm.rss_mb, end.rss_mb],
        "o",
        color="#222222",
        ms=4,
        label=f"at rest: growth {result.growth_mb:+.1f} MB",
    )
    top.set_ylabel("resident memory (MB)")
    top.set_title(
        f"Hands-free conversation, {result.duration_s / 60:.0f} min: memory and threads "
        f"(warm-up shaded)"
    )
    top.legend(loc="lower right", fontsize="small")
    middle.step(
        minutes, [s.threads for s in samples], where="post", color="#2f6fd0", label="Python threads"
    )
    middle.step(
        minutes, [s.os_threads for s in samples], where="post", color="#7a7a7a", label="OS threads"
    )
    middle.set_ylabel("threads")
    high = max(s.os_threads for s in samples)
    middle.set_ylim(0, high + 3)
    middle.legend(loc="lower right", fontsize="small", ncol=2)
    bottom.plot(minutes, [s.answered for s in samples], color="#2f9d4f", label="answered")
    bottom.plot(minutes, [s.cut for s in samples], color="#d04f2f", label="cut off")
    bottom.set_ylabel("replies")
    bottom.set_xlabel("minutes")
    bottom.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")
