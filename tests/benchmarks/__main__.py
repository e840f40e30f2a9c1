"""Run named benchmarks: python -m tests.benchmarks NAME [NAME ...] [--repeat N].

Each benchmark prints a table and writes JSON (and sometimes a PNG) to
tests/benchmarks/results/. Speed is measured here, never asserted in the test suite.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).with_name("results")
BENCHMARKS = {
    "turn": "tests.benchmarks.bench_turn",
    "stt": "tests.benchmarks.bench_stt",
    "voice": "tests.benchmarks.bench_voice",
    "voice-memory": "tests.benchmarks.bench_voice_memory",
    "kernel": "tests.benchmarks.bench_kernel",
    "desktop": "tests.benchmarks.bench_desktop",
    "sketch": "tests.benchmarks.bench_sketch",
    "refine": "tests.benchmarks.bench_refine",
    "ocr": "tests.benchmarks.bench_ocr",
    "tools": "tests.benchmarks.bench_tools",
    "listen": "tests.benchmarks.bench_listen",
    "everyday": "tests.benchmarks.bench_everyday",
    "install": "tests.benchmarks.bench_install",
    "escapes": "tests.benchmarks.bench_escapes",
    "wakeword": "tests.benchmarks.bench_wakeword",
    "wakeword-train": "tests.benchmarks.bench_wakeword_train",
    "web": "tests.benchmarks.bench_web",
    "chaos": "tests.benchmarks.bench_chaos",
    "fuzz": "tests.benchmarks.bench_fuzz",
    "injection-images": "tests.benchmarks.bench_injection_images",
    "soak": "tests.benchmarks.bench_soak",
    "long-talk": "tests.benchmarks.bench_long_talk",
}


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("names", nargs="+", choices=[*BENCHMARKS, "all"])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per item")
    parser.add_argument(
        "--llm",
        metavar="MODEL",
        help="language model for the kernel, tools and everyday benchmarks (a manifest name, "
        "e.g. qwen2.5-coder-0.5b-instruct; default: the embedded one, for everyday the app's "
        "own choice); results go to NAME-MODEL.json",
    )
    parser.add_argument(
        "--tool-format",
        choices=["json", "native"],
        help="how the tools benchmark's kernel calls tools (default: json steps; native: the "
        "model's own format when its chat template has one); results go to "
        "NAME-MODEL-FORMAT.json",
    )
    parser.add_argument(
        "--no-intents",
        action="store_true",
        help="everyday: every request to the model, no exact local answers (NAME-no-intents)",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        help="voice-memory: how long the conversation runs (default 60); soak: how long the "
        "desktop app is driven (default 60); wakeword: how much "
        "of the assistant's voice is fed (default 20; wakeword-train: 10); chaos: kill for "
        "this long instead of --repeat kills",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="voice-memory: also list the biggest Python growths after the warm-up",
    )
    args = parser.parse_args(argv)
    level = os.environ.get("VISTAVOX_LOG_LEVEL")
    if level:  # e.g. DEBUG: what the model reads on each turn, with times to line up
        logging.basicConfig(format="%(asctime)s %(threadName)s %(name)s: %(message)s")
        logging.getLogger("vistavox").setLevel(level.upper())
    if args.minutes is not None:
        os.environ["VISTAVOX_BENCH_MINUTES"] = str(args.minutes)
    if args.tracemalloc:
        os.environ["VISTAVOX_BENCH_TRACEMALLOC"] = "1"
    if args.no_intents:
        os.environ["VISTAVOX_BENCH_NO_INTENTS"] = "1"
    if args.llm:
        os.environ["VISTAVOX_BENCH_LLM"] = args.llm
    if args.tool_format:
        os.environ["VISTAVOX_BENCH_TOOL_FORMAT"] = args.tool_format
    names = list(BENCHMARKS) if "all" in args.names else args.names
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        print(f"== {name} ==", flush=True)
        started = time.time()
        result = module.run(repeat=args.repeat, results_dir=RESULTS)
        result.update(
            benchmark=name,
            machine=machine(),
            started=time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            wall_s=round(time.time() - started, 1),
        )
        suffix = "".join(f"-{part}" for part in (args.llm, args.tool_format) if part)
        suffix += "-no-intents" if args.no_intents else ""
        out = RESULTS / f"{name}{suffix}.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
