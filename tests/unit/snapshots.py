"""A hand-made ``HubService.snapshot()`` for the unit tests of the metric exporters."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from hub.observe.histograms import DURATION_BUCKETS, LATENCY_BUCKETS, WAIT_BUCKETS, Histogram

_TIMING = {"count": 3, "p50": 0.01, "p90": 0.02, "p99": 0.03, "max": 0.04}


def histogram(bounds: Sequence[float], values: Sequence[float]) -> dict[str, Any]:
    """The /status figures of a histogram that counted ``values``."""
    counted = Histogram(bounds)
    counted.add(values)
    return counted.figures()


SNAPSHOT: dict[str, Any] = {
    "hub": {
        "version": "0.1.0",
        "pid": 42,
        "started_at": 1_700_000_000.25,
        "uptime_s": 12.5,
        "received": 100,
        "received_per_s": 10.0,
        "unmatched": 2,
        "decode_errors": {"frames": 1, "json": 4},
        "input_connected": True,
        "input_paused": False,
        "input_paused_s": 1.5,
        "input_pauses": 3,
        "upstream_gaps": 0,
        "upstream_restarts": 1,
        "published": 5,
        "publish_dropped": 0,
        "rss_bytes": 50_000_000,
        "open_fds": 30,
        "backlog": 7,
        "log_bytes": 1_500_000,
        "log_max_bytes": 10_737_418_240,
        "log_segments": 2,
        "log_write_errors": 0,
        "log_sync_errors": 0,
        "log_rotate_errors": 0,
        "cursor_commit_errors": 0,
        "disk_full_pauses": 0,
    },
    "consumers": {
        "audit.log": {
            "state": "running",
            "backlog": 7,
            "backlog_memory": 7,
            "queue_size": 100,
            "oldest_age_s": 2.25,
            "enqueued": 98,
            "done": 90,
            "failed": 1,
            "halted": 0,
            "dropped": {"shutdown": 0, "consumer": 0},
            "retries": 4,
            "dead_letters": 1,
            "worker_restarts": 0,
            "read_back": 0,
            "spilled": False,
            "spills": 0,
            "crash_loop": False,
            "in_per_s": 9.0,
            "out_per_s": 8.0,
            "queue_wait_s": dict(_TIMING),
            "duration_s": dict(_TIMING),
            "latency_s": {"count": 0, "p50": None, "p90": None, "p99": None, "max": None},
            "queue_wait_hist": histogram(WAIT_BUCKETS, [0.002, 0.03, 0.03, 2.0]),
            "duration_hist": histogram(DURATION_BUCKETS, [0.0001, 0.004, 0.04, 75.0]),
            "latency_hist": histogram(LATENCY_BUCKETS, []),
            "workers": [
                {"thread": "consumer:audit.log:0", "state": "busy", "busy_for_s": 0.5},
                {"thread": "consumer:audit.log:1", "state": "idle"},
            ],
            "backlog_history": [0, 1, 3, 7],
        }
    },
    "producers": {
        "ticker": {"polls": 9, "failures": 3, "overruns": 1, "restarts": 0, "crash_loop": False,
                   "last_duration_s": 0.25, "last_run_at": 1_700_000_000.5, "stuck": False,
                   "state": "idle"},
    },
}  # fmt: skip


def snapshot(**consumer_changes: Any) -> dict[str, Any]:
    """A deep copy of SNAPSHOT, with ``consumer_changes`` applied to its one consumer (it has one
    producer too)."""
    doc = copy.deepcopy(SNAPSHOT)
    doc["consumers"]["audit.log"].update(consumer_changes)
    return doc
