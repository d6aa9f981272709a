"""Observability: counters, the snapshot, /status, Prometheus, statsd, logging.

No code runs here: each module's docstring names the thread its code runs on.
"""
