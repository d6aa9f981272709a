"""Observability: counters, the snapshot, /status, Prometheus, statsd, logging."""
