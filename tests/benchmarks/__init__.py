"""Benchmark runner: python -m tests.benchmarks NAME."""

from __future__ import annotations

import os


def chosen_llm():
    """The language model the runner's --llm named (resolved), or None for the default."""
    from vistavox.models.resolve import resolve

    name = os.environ.get("VISTAVOX_BENCH_LLM")
    return resolve(name) if name else None


def app_llm_name() -> str:
    """The language model a benchmark of the app should use: the one --llm named, else the
    one the app itself would pick (its settings, else the best installed), never the
    SmolLM2 that tests/conftest.py makes the tests' default through $VISTAVOX_LLM."""
    from vistavox.models.resolve import preferred_language_model
    from vistavox.pipelines.app_settings import AppSettings

    named = os.environ.get("VISTAVOX_BENCH_LLM") or AppSettings.load().llm_model
    return named or preferred_language_model().spec.name
