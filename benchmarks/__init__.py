"""Benchmarks run by ``make bench`` (``python -m benchmarks``); not part of ``make test``."""
