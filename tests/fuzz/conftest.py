"""With ``VISTAVOX_FUZZ_REPORT=FILE``: write per surface the cases run and the tests that
failed (with Hypothesis's falsifying example) to FILE as JSON (for the benchmark)."""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from pathlib import Path

from tests.fuzz import CASES, SLOWEST

_FAILURES: dict[str, list[dict[str, str]]] = defaultdict(list)


def pytest_runtest_logreport(report) -> None:
    if report.when != "call" or not report.failed:
        return
    surface = Path(report.nodeid.split("::")[0]).stem.removeprefix("test_")
    text = str(report.longrepr)
    example = re.search(r"Falsifying example:.*?(?=\n\n|\Z)", text, re.S)
    error = re.findall(r"^E\s+(.+)$", text, re.M)
    _FAILURES[surface].append(
        {
            "test": report.nodeid.split("::")[-1],
            "error": " | ".join(error[:3])[:600],
            "example": example.group(0)[:1500] if example else "",
        }
    )


def pytest_sessionfinish(session) -> None:
    target = os.environ.get("VISTAVOX_FUZZ_REPORT")
    if not target:
        return
    surfaces = sorted(set(CASES) | set(_FAILURES))
    report = {
        s: {
            "cases": CASES.get(s, 0),
            "failures": _FAILURES.get(s, []),
            "slowest_case_s": round(SLOWEST.get(s, 0.0), 3),
        }
        for s in surfaces
    }
    Path(target).write_text(json.dumps(report, indent=2) + "\n")
