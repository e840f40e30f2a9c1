"""Benchmark runner: python -m tests.benchmarks NAME."""

from __future__ import annotations

import os


def chosen_llm():
    """The language model the runner's --llm named (resolved), or None for the default."""
    from vistavox.models.resolve import resolve

    name = os.environ.get("VISTAVOX_BENCH_LLM")
    return resolve(name) if name else None
