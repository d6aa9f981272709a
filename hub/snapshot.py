"""The one picture of the hub that /status, /metrics, statsd and ``consumer-hub status`` share,
and the reasons /ready gives.

Runs on the reactor thread: it reads reactor-owned `Stats`, queue lengths (safe to read from any
thread) and each worker's ``busy`` slot (a single reference, written only by its own thread).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from hub import __version__
from hub.loader import LoadedConsumer
from hub.stats import Stats
from hub.worker import ConsumerWorkers
from hub.workqueue import WorkQueue


@dataclass
class ConsumerRuntime:
    """A running consumer: what was loaded, its queue, its threads, and its state.

    ``state`` is one of starting, running, halted, failed, stopping, stopped.
    """

    loaded: LoadedConsumer
    queue: WorkQueue
    workers: ConsumerWorkers
    state: str = "starting"
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.loaded.name


def worker_states(runtime: ConsumerRuntime, now: float, stuck_after_s: float) -> list[dict]:
    """Per thread: idle, busy (since, msg_id, topic) or stuck (busy for too long)."""
    states = []
    for index, busy in enumerate(runtime.workers.busy):
        entry: dict[str, Any] = {"thread": f"consumer:{runtime.name}:{index}", "state": "idle"}
        if busy is not None:
            stuck = now - busy.since > stuck_after_s
            entry.update(
                state="stuck" if stuck else "busy",
                busy_since=busy.since,
                busy_for_s=max(0.0, now - busy.since),
                msg_id=busy.msg_id,
                topic=busy.topic,
            )
        states.append(entry)
    return states


def queued(runtime: ConsumerRuntime) -> tuple[int, float | None]:
    """Messages waiting to start (in the queue, or taken in a worker's batch) and the oldest's
    enqueue time (``time.monotonic()``), None when nothing waits."""
    held = [h for h in runtime.workers.held if h is not None]
    times = [h.oldest_enqueued_at for h in held]
    times.append(runtime.queue.oldest_enqueued_at)
    oldest = min((t for t in times if t is not None), default=None)
    return len(runtime.queue) + sum(h.count for h in held), oldest


def backlog_of(runtime: ConsumerRuntime, log_end: int) -> int:
    """Every message of this consumer not yet started: in memory, in hand, and on disk."""
    return queued(runtime)[0] + runtime.workers.spool.on_disk(log_end)


def consumer_snapshot(
    runtime: ConsumerRuntime, stats: Stats, now: float, stuck_after_s: float
) -> dict[str, Any]:
    """Everything about one consumer."""
    mono = time.monotonic()
    # busy slots before the backlog: a worker sets its held count before its busy slot, so a
    # status showing message n in hand never shows the larger backlog from before it
    workers = worker_states(runtime, now, stuck_after_s)
    backlog, oldest = queued(runtime)
    doc: dict[str, Any] = {
        "class": runtime.loaded.config.cls,
        "topics": list(runtime.loaded.topics),
        "threads": runtime.loaded.config.threads,
        "state": runtime.state,
        "error": runtime.error,
        "backlog": backlog,
        "backlog_memory": backlog,
        "queue_size": runtime.queue.bound,
        "oldest_age_s": (mono - oldest) if oldest is not None else 0.0,
        "workers": workers,
    }
    doc.update(stats.consumer_snapshot(runtime.name, mono))
    doc.update(runtime.extra)
    return doc


def hub_snapshot(
    stats: Stats, started_at: float, input_connected: bool, paused_since: float | None, now: float
) -> dict[str, Any]:
    """Hub-wide figures: input, decode errors, process resources.

    ``paused_since`` is the router's ``time.monotonic()`` when input paused, None when it is
    not: a pause under way counts in ``input_paused_s`` already.
    """
    rate_in, _ = stats.rate(None)
    paused = paused_since is not None
    paused_s = float(stats.hub["input_paused_s"])
    if paused_since is not None:
        paused_s += max(0.0, time.monotonic() - paused_since)
    return {
        "version": __version__,
        "pid": os.getpid(),
        "started_at": started_at,
        "uptime_s": now - started_at,
        "received": stats.hub["received"],
        "received_per_s": rate_in,
        "unmatched": stats.hub["unmatched"],
        "decode_errors": dict(stats.decode_errors),
        "input_connected": input_connected,
        "input_paused": paused,
        "input_paused_s": paused_s,
        "input_pauses": stats.hub["input_pauses"],
        "upstream_gaps": stats.hub["upstream_gaps"],
        **_process_figures(),
    }


def _process_figures() -> dict[str, int | None]:
    """Resident memory and open descriptors; None (not exported) when /proc cannot be read,
    for example while the process is out of file descriptors."""
    try:
        process = psutil.Process(os.getpid())
        return {"rss_bytes": process.memory_info().rss, "open_fds": process.num_fds()}
    except (OSError, psutil.Error):
        return {"rss_bytes": None, "open_fds": None}


def not_ready(
    ready: bool, input_connected: bool, consumers: dict[str, ConsumerRuntime], now: float
) -> list[str]:
    """Why the hub is not ready for /ready: starting or stopping, input, consumers not
    running, workers stuck in one ``consume()`` for longer than ``stuck_after_s``."""
    reasons = []
    if not ready:
        reasons.append("starting or stopping")
    if not input_connected:
        reasons.append("input not connected")
    for name, rt in consumers.items():
        if rt.state != "running":
            reasons.append(f"consumer {name} is {rt.state}")
        limit = rt.loaded.config.stuck_after_s
        stuck = [w for w in rt.workers.busy if w and now - w.since > limit]
        if stuck:
            reasons.append(f"consumer {name} stuck on msg_id {stuck[0].msg_id}")
    return reasons
