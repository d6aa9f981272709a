"""A hand-made ``HubService.snapshot()`` for the unit tests of the metric exporters."""

from __future__ import annotations

import copy
from typing import Any

_TIMING = {"count": 3, "p50": 0.01, "p90": 0.02, "p99": 0.03, "max": 0.04}

SNAPSHOT: dict[str, Any] = {
    "hub": {
        "version": "0.1.0",
        "pid": 42,
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
        "rss_bytes": 50_000_000,
        "open_fds": 30,
        "backlog": 7,
        "log_bytes": 1_500_000,
        "log_max_bytes": 10_737_418_240,
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
            "in_per_s": 9.0,
            "out_per_s": 8.0,
            "queue_wait_s": dict(_TIMING),
            "duration_s": dict(_TIMING),
            "latency_s": {"count": 0, "p50": None, "p90": None, "p99": None, "max": None},
            "workers": [
                {"thread": "consumer:audit.log:0", "state": "busy", "busy_for_s": 0.5},
                {"thread": "consumer:audit.log:1", "state": "idle"},
            ],
            "backlog_history": [0, 1, 3, 7],
        }
    },
}


def snapshot(**consumer_changes: Any) -> dict[str, Any]:
    """A deep copy of SNAPSHOT, with ``consumer_changes`` applied to its one consumer."""
    doc = copy.deepcopy(SNAPSHOT)
    doc["consumers"]["audit.log"].update(consumer_changes)
    return doc
