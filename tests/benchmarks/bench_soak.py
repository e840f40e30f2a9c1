"""The desktop app for an hour (by default) under a script: cycles of typed and spoken
questions, tool calls (calculator, python), sketches made into pages and edited,
screenshots, conversation switches and delete + undo (tests/desktop_soak.py), in the real
window on a virtual screen with the virtual microphone and speaker.

Memory and thread count of the app process should be flat after the warm-up (the first
two cycles, at least 3 minutes), GUI blocks <= 50 ms, no error shown, every request
answered. Printed and written to results/soak.json, with a plot over time (soak.png).
``--minutes`` (or VISTAVOX_BENCH_MINUTES) sets the length; ``--llm`` the language model
(default: the 0.5B tool model the tests use).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from tests.audio_rig import PulseRig
from tests.benchmarks.stats import print_table
from tests.conftest import EVAL_DIR
from tests.desktop_rig import App, AppDidNotShow, VirtualScreen
from tests.desktop_soak import (
    SLOW_MS,
    SOAK_LLM,
    Sampler,
    Soak,
    SoakLog,
    figures,
    models_dir,
    results,
    sketch_photos,
    soak_env,
    spoken_questions,
    warmup_end_s,
)

DEFAULT_MINUTES = 60.0
SAMPLE_EVERY_S = 5.0


def run(repeat: int, results_dir: Path) -> dict[str, object]:
    del repeat  # one long run
    minutes = float(os.environ.get("VISTAVOX_BENCH_MINUTES") or DEFAULT_MINUTES)
    llm = os.environ.get("VISTAVOX_BENCH_LLM") or SOAK_LLM
    photos = sketch_photos(EVAL_DIR)
    if not photos:
        raise SystemExit(f"no sketch photos in {EVAL_DIR}/sketches/samples (VISTAVOX_EVAL_DIR)")
    speech = spoken_questions()
    load_before = os.getloadavg()[0]
    home = Path(tempfile.mkdtemp(prefix="vistavox-soak-"))
    app_log = home / "app.log"
    screen = VirtualScreen(None).start()
    rig = PulseRig().start()
    rig.start_io()
    print(f"{minutes:g} min of cycles with {llm}; the app's log: {app_log}", flush=True)
    try:
        app = App(
            soak_env(screen.name, home, llm, models_dir()), home / "conversations.db", app_log
        )
        try:
            soak, exit_code, duration_s = _drive(app, rig, photos, speech, minutes * 60)
        finally:
            if app.proc.poll() is None:
                app.proc.kill()
    finally:
        rig.close()
        screen.close()
    log = soak.log
    warmup_s = warmup_end_s(log, duration_s)
    numbers = figures(log, warmup_s)
    numbers["exit_code"] = exit_code
    _print(numbers)
    _plot(log, numbers, warmup_s, minutes, results_dir / "soak.png")
    shutil.rmtree(home / "data", ignore_errors=True)  # pages, screenshots; the log stays
    return {
        "unit": "MB (VmRSS of the app process), OS threads, ms, counts",
        "minutes": minutes,
        "llm": llm,
        "persona": "coding-helper",
        "slow_block_ms": SLOW_MS,
        "figures": numbers,
        "machine_load_1min": {"before": round(load_before, 2), "after": os.getloadavg()[0]},
        "app_log": str(app_log),
        **results(log),
    }


def _drive(app: App, rig, photos, speech, duration_s: float) -> tuple[Soak, int | None, float]:
    app.event("ModelsReady", timeout=400)
    soak = Soak(app, rig, photos, speech)
    soak.start()
    sampler = Sampler(app, soak.log, SAMPLE_EVERY_S).start()
    begun = time.monotonic()
    try:
        while time.monotonic() - begun < duration_s:
            end = soak.run_cycle()
            _progress(soak.log, end, time.monotonic() - begun)
    except (AppDidNotShow, BrokenPipeError):
        if app.proc.poll() is None:
            raise
        # The app ended by itself (a crash): the figures so far are kept, with its exit code.
        print(f"the app ended by itself (exit code {app.proc.returncode})", flush=True)
    finally:
        sampler.stop()
    ran_s = time.monotonic() - begun
    ended = app.proc.poll()
    return soak, soak.quit() if ended is None else ended, ran_s


def _progress(log: SoakLog, end, elapsed_s: float) -> None:
    unanswered = len(log.unanswered)
    print(
        f"  {elapsed_s / 60:5.1f} min  cycle {end.cycle + 1} ({end.seconds:.0f} s)  RSS "
        f"{end.rss_mb:7.1f} MB  threads {end.threads}  children {end.children}  longest "
        f"block {end.longest_block_ms:.0f} ms ({len(end.slow_blocks_ms)} > {SLOW_MS:g})  "
        f"answered {log.answered}/{len(log.requests)}"
        + (f"  UNANSWERED {unanswered}" if unanswered else "")
        + (f"  errors {len(log.errors)}" if log.errors else ""),
        flush=True,
    )


def _print(n: dict[str, object]) -> None:
    rows = [
        ("cycles", n["cycles"]),
        ("warm-up (s)", n["warmup_s"]),
        ("RSS at rest, end of warm-up (MB)", n["rss_warm_mb"]),
        ("RSS at rest, end (MB)", n["rss_end_mb"]),
        ("RSS growth after warm-up (MB)", n["rss_growth_mb"]),
        ("RSS trend after warm-up (MB/hour)", n["rss_trend_mb_per_hour"]),
        ("RSS max after warm-up (MB)", n["rss_max_after_warmup_mb"]),
        (
            "anonymous memory at rest, warm-up end / end (MB)",
            f"{n['anon_warm_mb']}/{n['anon_end_mb']}",
        ),
        ("anonymous memory trend after warm-up (MB/hour)", n["anon_trend_mb_per_hour"]),
        (
            "mapped files resident, warm-up end / end (MB)",
            f"{n['file_warm_mb']}/{n['file_end_mb']}",
        ),
        (
            "threads at rest, warm-up end / end",
            f"{n['threads_at_rest_warm']}/{n['threads_at_rest_end']}",
        ),
        (
            "threads after warm-up, min-max",
            f"{n['threads_min_after_warmup']}-{n['threads_max_after_warmup']}",
        ),
        ("GUI block max (ms)", n["gui_block_max_ms"]),
        (
            f"GUI blocks > {SLOW_MS:g} ms (after warm-up)",
            f"{n['gui_blocks_over_50ms']} ({n['gui_blocks_over_50ms_after_warmup']})",
        ),
        (
            "... after warm-up: GUI's own work / waiting for a CPU / asleep (GIL, lock)",
            "/".join(str(v) for v in n["gui_blocks_after_warmup_by_cause"].values()),
        ),
        ("requests answered", f"{n['requests_answered']}/{n['requests']}"),
        ("turns answered", n["turns_answered"]),
        ("tool calls", n["tool_calls"]),
        ("errors shown", len(n["errors_shown"])),
        ("exit code", n["exit_code"]),
    ]
    print_table([{"figure": f, "value": v} for f, v in rows], ["figure", "value"])
    for error in n["errors_shown"][:10]:
        print("  error shown: " + error)
    for request in n["unanswered"][:10]:
        print(f"  unanswered: {request['what']}: {request['text']} ({request['problem']})")


def _or_dash(value) -> str:
    return "-" if value is None else f"{value:+g}"


def _plot(log: SoakLog, n: dict, warmup_s: float, minutes: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [s.t_s / 60 for s in log.samples]
    ends = [c.t_s / 60 for c in log.cycles]
    fig, (top, middle, bottom) = plt.subplots(
        3, 1, figsize=(9, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1.6, 1.6]}
    )
    for ax in (top, middle, bottom):
        ax.axvspan(0, warmup_s / 60, color="#eeeeee")
        ax.grid(alpha=0.3)
    top.plot(t, [s.rss_mb for s in log.samples], color="#2f6fd0", lw=1, label="RSS")
    top.plot(
        t, [s.anon_mb for s in log.samples], color="#d08f2f", lw=1, label="of it anonymous (heap)"
    )
    top.plot(
        t,
        [s.file_mb for s in log.samples],
        color="#9a9a9a",
        lw=1,
        label="of it mapped files (models)",
    )
    top.plot(
        ends,
        [c.rss_mb for c in log.cycles],
        "o",
        color="#222222",
        ms=3,
        label="at rest, end of each cycle",
    )
    top.plot(ends, [c.anon_mb for c in log.cycles], "o", color="#222222", ms=3)
    top.set_ylim(0, None)
    top.set_ylabel("app resident memory (MB)")
    top.set_title(
        f"Desktop app soak, {minutes:g} min, {n['cycles']} cycles (warm-up shaded)\n"
        f"trend after warm-up: RSS {_or_dash(n['rss_trend_mb_per_hour'])} MB/h, anonymous "
        f"{_or_dash(n['anon_trend_mb_per_hour'])} MB/h",
        fontsize="medium",
    )
    top.legend(loc="lower right", fontsize="small")
    middle.step(
        t, [s.threads for s in log.samples], where="post", color="#7a7a7a", label="OS threads"
    )
    middle.plot(ends, [c.threads for c in log.cycles], "o", color="#222222", ms=3, label="at rest")
    middle.set_ylim(0, max(s.threads for s in log.samples) + 5)
    middle.set_ylabel("threads")
    middle.legend(loc="lower right", fontsize="small", ncol=2)
    bottom.plot(
        ends,
        [c.longest_block_ms for c in log.cycles],
        "s",
        color="#d04f2f",
        ms=4,
        label="longest GUI block in the cycle",
    )
    bottom.axhline(SLOW_MS, color="#d04f2f", ls="--", lw=1, label=f"{SLOW_MS:g} ms")
    bottom.set_ylim(0, None)
    bottom.set_ylabel("GUI block (ms)")
    bottom.set_xlabel("minutes since the app started")
    answered = bottom.twinx()
    answered.plot(t, [s.answered for s in log.samples], color="#2f9d4f", lw=1)
    answered.set_ylabel("requests answered", color="#2f9d4f")
    bottom.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")
