"""Property-based fuzzing of every input surface (Hypothesis): each generated case must end
in a correct result or a clear error (a ``VistavoxError`` or the surface's documented one,
with a message for a user), never a crash, another exception, a hang or lost data.

One file per surface. ``fuzz(examples)`` gives a test its Hypothesis settings: in the test
suite ``examples`` cases (derandomized, so CI never flakes), in the benchmark
(``python -m tests.benchmarks fuzz``: ``VISTAVOX_FUZZ_PROFILE=bench``) many more. Every case
run and every failing test is counted per surface for the benchmark's report
(``VISTAVOX_FUZZ_REPORT``, written by ``tests/fuzz/conftest.py``).
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings

from vistavox.pipelines.errors import VistavoxError

PROFILE = os.environ.get("VISTAVOX_FUZZ_PROFILE", "suite")
BENCH_FACTOR = int(os.environ.get("VISTAVOX_FUZZ_FACTOR", "20"))  # bench: 20× the suite's cases
CASES: Counter[str] = Counter()  # surface → cases run (the benchmark's "cases tried")
SLOWEST: dict[str, float] = {}  # surface → seconds of its slowest case (reported, not asserted)

_PYTHON_INTERNALS = re.compile(
    r"Traceback \(most recent|\b(?:Attribute|Key|Index|Type|Name|Recursion|UnboundLocal)Error\b"
    r"|object has no attribute|NoneType"
)


def fuzz(examples: int) -> settings:
    """Settings for a fuzz test: ``examples`` cases in the suite, BENCH_FACTOR× as many in
    the benchmark; no deadline (a slow machine is not a failure), the same cases each run."""
    count = examples * BENCH_FACTOR if PROFILE == "bench" else examples
    # VISTAVOX_FUZZ_GENERATED_ONLY=1: without the @example regressions (what the generators
    # find on their own).
    skip_explicit = os.environ.get("VISTAVOX_FUZZ_GENERATED_ONLY") == "1"
    return settings(
        phases=[p for p in Phase if not (skip_explicit and p is Phase.explicit)],
        max_examples=count,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.function_scoped_fixture,  # fixtures here hold no per-case state
        ],
    )


def surface_of(function: Callable) -> str:
    """The surface a test fuzzes: its file's name without ``test_``."""
    return Path(inspect.getfile(function)).stem.removeprefix("test_")


def counted(function: Callable) -> Callable:
    """Count each case the test runs under its surface (put it below ``@given``)."""
    surface = surface_of(function)

    @functools.wraps(function)
    def run(*args, **kwargs):
        CASES[surface] += 1
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            took = time.perf_counter() - started
            SLOWEST[surface] = max(SLOWEST.get(surface, 0.0), took)

    return run


class Blob(bytes):
    """Bytes that print short in a failure report (the case's recipe says how it was made)."""

    def __repr__(self) -> str:
        return (
            f"Blob({bytes(self[:24])!r}… {len(self)} bytes)"
            if len(self) > 24
            else (f"Blob({bytes(self)!r})")
        )


def check_clear(error: BaseException) -> str:
    """``error``'s message, asserted to be one a user understands: not empty, not a
    wall of text, no traceback or Python internals."""
    message = str(error)
    assert message.strip(), f"{type(error).__name__} with an empty message"
    assert len(message) <= 1200, f"an overlong message ({len(message)} characters)"
    assert not _PYTHON_INTERNALS.search(message), f"Python internals in the message: {message}"
    return message


def expect_clear(call: Callable[[], object], *errors: type[BaseException]):
    """Run ``call``: its result, or None after one of ``errors`` (default VistavoxError)
    with a clear message. Any other exception fails the case."""
    expected = errors or (VistavoxError,)
    try:
        return call()
    except expected as error:
        check_clear(error)
        return None
