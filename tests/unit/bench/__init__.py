"""Unit tests of bench (the benchmark suite's own parts)."""
