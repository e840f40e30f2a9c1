"""Crash at any moment, lose nothing: the real desktop app killed with SIGKILL at random
points (a typed turn, a settings save, a conversation delete and its undo, a sketch page
save), checked after each kill and started again on the same files (tests/crash_chaos.py).
``--repeat N``: N kills; ``--minutes M``: as many kills as fit in M minutes instead. The
seed is printed and saved, so a run can be repeated (VISTAVOX_BENCH_SEED)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from tests.crash_chaos import Chaos
from tests.desktop_rig import VirtualScreen
from tests.test_desktop_e2e import _sketch_photo


def run(repeat: int = 5, results_dir: Path | None = None) -> dict:
    seed = int(os.environ.get("VISTAVOX_BENCH_SEED", "2027"))
    minutes = os.environ.get("VISTAVOX_BENCH_MINUTES")
    until = time.monotonic() + 60 * float(minutes) if minutes else None
    screen = VirtualScreen(name=None).start()
    try:
        with tempfile.TemporaryDirectory(prefix="vistavox-chaos-") as folder:
            home = Path(folder)
            chaos = Chaos(screen.name, home / "home", seed, sketch=_sketch_photo(home))
            while (time.monotonic() < until) if until else (chaos.runs < repeat):
                moment = chaos.one_kill()
                print(f"kill {chaos.runs}: {moment}", flush=True)
            tally = chaos.finish()
    finally:
        screen.close()
    tally["seed"] = seed
    tally["figure"] = f"{tally['kills']} kills, {tally['losses']} losses"
    print(f"seed {seed}: {tally['figure']}; per moment {tally['kills_per_moment']}")
    print(f"acknowledged before the kills: {tally['acknowledged_before_kills']}")
    print(
        f"integrity failures {tally['integrity_failures']}, half-written files "
        f"{tally['half_written_files']}, clean restarts {tally['clean_restarts']}/"
        f"{tally['restarts']}"
    )
    for problem in tally["problems"]:
        print("  problem:", problem)
    return tally
