"""Benchmark runner: python -m tests.benchmarks NAME."""
