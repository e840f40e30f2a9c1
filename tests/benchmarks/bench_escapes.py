"""The sandbox escape suite (tests/escapes/): every attempt run through the real Python tool,
each judged by what the host saw (connections, files, processes, secrets), not only by what
the script printed. Prints "N attempts, N contained" and the confinement the sandbox had.

``VISTAVOX_BENCH_ESCAPES=network/tcp_connect,files`` runs only those attempts or categories.
``VISTAVOX_BENCH_ESCAPE_LAYERS=all`` (or a comma list of ``tests.escapes.weakened``
scenarios) also runs them with layers taken away, or as on Debian 12 and Ubuntu 24.04: which
attempts each layer stops (the attempts that only wait for a time limit are left out there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

from tests.escapes import Range, load_attempts, run_all
from tests.escapes.weakened import SCENARIOS
from vistavox.pipelines.tools.sandbox import run_python

# They test the time limits, which no scenario changes, and take 20 s each.
_SLOW = ("resources/cpu_loop", "resources/cpu_loop_ignore_xcpu", "resources/sleep_forever")


def _chosen():
    wanted = [w for w in os.environ.get("VISTAVOX_BENCH_ESCAPES", "").split(",") if w]
    attempts = load_attempts()
    if not wanted:
        return attempts
    return [a for a in attempts if a.id in wanted or a.category in wanted]


def run(repeat: int, results_dir) -> dict:
    del repeat, results_dir  # one pass: each attempt is judged, not timed
    attempts = _chosen()
    started = time.monotonic()

    def log(outcome) -> None:
        mark = "ok " if outcome.as_expected else "!! "
        why = "; ".join(outcome.reasons)[:160]
        print(
            f"{mark}{outcome.attempt.id:42} {outcome.verdict:9} {outcome.exit:22} "
            f"{outcome.seconds:5.1f}s {why}",
            flush=True,
        )

    outcomes = run_all(attempts, log=log)
    escaped = [o for o in outcomes if o.verdict == "escaped"]
    broken = [o for o in outcomes if o.verdict == "broken"]
    contained = len(outcomes) - len(escaped) - len(broken)
    per_category = {}
    for category in dict.fromkeys(o.attempt.category for o in outcomes):
        mine = [o for o in outcomes if o.attempt.category == category]
        per_category[category] = {
            "attempts": len(mine),
            "contained": sum(o.verdict in ("blocked", "contained") for o in mine),
            "verdicts": dict(Counter(o.verdict for o in mine)),
        }
    confinement = run_python("pass").confinement  # the layers this machine gives the tool
    print(f"\n{len(outcomes)} attempts, {contained} contained", flush=True)
    print(f"confinement: {', '.join(confinement) or 'not reported'}")
    for o in escaped:
        print(f"  ESCAPED {o.attempt.id}: {'; '.join(o.reasons)}")
    for o in broken:
        print(f"  BROKEN {o.attempt.id}: {o.stderr[-200:]}")
    layers = _layers([a for a in attempts if a.id not in _SLOW])
    return {
        "layers": layers,
        "attempts": len(outcomes),
        "contained": contained,
        "escaped": [o.attempt.id for o in escaped],
        "broken": [o.attempt.id for o in broken],
        "not_as_expected": [o.attempt.id for o in outcomes if not o.as_expected],
        "confinement": confinement,
        "per_category": per_category,
        "outcomes": [o.summary() for o in outcomes],
        "suite_s": round(time.monotonic() - started, 1),
    }


def _layers(attempts) -> dict:
    """The same attempts through ``tests.escapes.weakened``: contained per scenario."""
    wanted = os.environ.get("VISTAVOX_BENCH_ESCAPE_LAYERS", "")
    names = list(SCENARIOS) if wanted == "all" else [w for w in wanted.split(",") if w]
    found = {}
    for name in names:
        tool = (sys.executable, "-m", "tests.escapes.weakened", name)
        with Range() as rng:
            outcomes = [rng.run(attempt, tool=tool) for attempt in attempts]
        escaped = [o for o in outcomes if o.verdict == "escaped"]
        broken = [o for o in outcomes if o.verdict == "broken"]
        layers = subprocess.run(
            [*tool, json.dumps({"code": "pass"})], capture_output=True, text=True, check=True
        )
        found[name] = {
            "confinement": json.loads(layers.stdout)["confinement"],
            "attempts": len(outcomes),
            "contained": len(outcomes) - len(escaped) - len(broken),
            "escaped": {o.attempt.id: o.reasons for o in escaped},
            "broken": [o.attempt.id for o in broken],
        }
        print(
            f"{name}: {len(outcomes)} attempts, {found[name]['contained']} contained"
            + (f"; escaped: {', '.join(o.attempt.id for o in escaped)}" if escaped else ""),
            flush=True,
        )
    return found
