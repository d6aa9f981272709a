"""The benchmark suite: ``python -m bench`` (see docs/benchmarks.md).

Nothing here is imported by the hub itself, except :mod:`bench.consumers`, which the hub
subprocess loads as ordinary ``module:Class`` plugins during a benchmark run.
"""
