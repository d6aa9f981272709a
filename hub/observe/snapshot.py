"""The one picture of the hub that /status, /metrics, statsd, the STATUS= line and
``consumer-hub status``/``top`` share, and the reasons /ready gives.

Runs on the reactor thread: it reads reactor-owned `Stats`, queue lengths (safe to read from any
thread) and each worker's ``busy`` slot (a single reference, written only by its own thread).
`Snapshotter` is the one owner: it assembles the snapshot in one place, from `Stats`, each
`hub.workers.life.ConsumerLife` (state, backlog, stuck threads: each defined once, there) and
the figure providers it is given (the durable log's, the supervisor's, the publisher's) and the
sections it is given (``producers``: `hub.lifecycle.producers.Producers.snapshot`), so no other
part adds to or overwrites a figure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from hub import __version__
from hub.observe.stats import Stats
from hub.workers.life import ConsumerLife, ConsumerState


def worker_states(life: ConsumerLife, now: float) -> list[dict[str, Any]]:
    """Per thread: idle, busy (since, msg_id, topic) or stuck (`ConsumerLife.stuck`)."""
    states = []
    for index, busy in enumerate(life.workers.busy):
        entry: dict[str, Any] = {"thread": f"consumer:{life.name}:{index}", "state": "idle"}
        if busy is not None:
            entry.update(
                state="stuck" if life.is_stuck(busy, now) else "busy",
                busy_since=busy.since,
                busy_for_s=max(0.0, now - busy.since),
                msg_id=busy.msg_id,
                topic=busy.topic,
            )
        states.append(entry)
    return states


def consumer_snapshot(life: ConsumerLife, stats: Stats, now: float, log_end: int) -> dict[str, Any]:
    """Everything about one consumer."""
    mono = time.monotonic()
    # busy slots before the backlog: a worker sets its held count before its busy slot, so a
    # status showing message n in hand never shows the larger backlog from before it
    workers = worker_states(life, now)
    backlog = life.backlog(log_end)
    oldest = backlog.oldest_enqueued_at
    doc: dict[str, Any] = {
        "class": life.loaded.config.cls,
        "topics": list(life.loaded.topics),
        "threads": life.loaded.config.threads,
        "state": life.state.value,
        "error": life.error,
        "backlog": backlog.total,
        "backlog_memory": backlog.memory,
        "backlog_disk": backlog.disk,
        "queue_size": life.queue.bound,
        "oldest_age_s": (mono - oldest) if oldest is not None else 0.0,
        "workers": workers,
        "stuck_workers": sum(1 for w in workers if w["state"] == "stuck"),
    }
    doc.update(stats.consumer_figures(life.name, mono))
    doc["dead_letters"] = stats.dead_letters[life.name]
    doc["retrying"] = life.retrying()
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
        "upstream_restarts": stats.hub["upstream_restarts"],
        "disk_full_pauses": stats.hub["disk_full_pauses"],
        "log_write_errors": stats.hub["log_write_errors"],
        **_process_figures(),
    }


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
PROC = "/proc/self"  # where _process_figures reads (tests point it elsewhere)


def _process_figures() -> dict[str, int | None]:
    """Resident memory and open descriptors, read from /proc as prometheus-client's process
    collector reads them (so /status and ``process_*`` agree); None (not exported) when /proc
    cannot be read, for example while the process is out of file descriptors."""
    try:
        with open(f"{PROC}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[-1].split()
        return {"rss_bytes": int(fields[21]) * PAGE_SIZE, "open_fds": len(os.listdir(f"{PROC}/fd"))}
    except (OSError, IndexError, ValueError):
        return {"rss_bytes": None, "open_fds": None}


def not_ready(
    ready: bool, input_connected: bool, lives: Iterable[ConsumerLife], now: float
) -> list[str]:
    """Why the hub is not ready for /ready: starting or stopping, input, consumers not
    running, workers stuck in one ``consume()`` for longer than ``stuck_after_s``, consumers
    waiting out an outage of what they need (``hub.Unavailable``)."""
    reasons = []
    if not ready:
        reasons.append("starting or stopping")
    if not input_connected:
        reasons.append("input not connected")
    for life in lives:
        if life.state is not ConsumerState.RUNNING:
            reasons.append(f"consumer {life.name} is {life.state.value}")
        stuck = life.stuck(now)
        if stuck:
            reasons.append(f"consumer {life.name} stuck on msg_id {stuck[0].msg_id}")
        reasons.extend(
            f"consumer {life.name} waits: {why}" for why in sorted(set(life.unavailable()))
        )
    return reasons


HubFigures = Callable[[], Mapping[str, Any]]  # more hub-wide figures (the log's, ...)
ConsumerFigures = Callable[[str], Mapping[str, Any]]  # more figures of one consumer
Reasons = Callable[[], list[str]]  # more reasons for /ready


class Snapshotter:
    """Builds the snapshot and the /ready reasons; the parts it reads are given, not found."""

    def __init__(  # noqa: PLR0913 - keyword-only narrow parts (what it reads)
        self,
        *,
        stats: Stats,
        lives: Callable[[], Iterable[ConsumerLife]],
        log_end: Callable[[], int],
        input_connected: Callable[[], bool],
        paused_since: Callable[[], float | None],
        hub_figures: Sequence[HubFigures] = (),
        consumer_figures: Sequence[ConsumerFigures] = (),
        reasons: Sequence[Reasons] = (),
        sections: Mapping[str, Callable[[], dict[str, Any]]] | None = None,
    ) -> None:
        self.stats = stats
        self.lives = lives
        self.log_end = log_end
        self.input_connected = input_connected
        self.paused_since = paused_since
        self.hub_figures = hub_figures
        self.consumer_figures = consumer_figures
        self.reasons = reasons
        self.sections = sections or {}  # more top-level sections: "producers"
        self.started_at = 0.0

    def mark_started(self, now: float) -> None:
        """The hub started at ``now`` (``time.time()``)."""
        self.started_at = now

    def snapshot(self) -> dict[str, Any]:
        """Every figure of the hub, as one JSON-ready mapping."""
        now = time.time()
        end = self.log_end()
        hub = hub_snapshot(
            self.stats, self.started_at, self.input_connected(), self.paused_since(), now
        )
        for figures in self.hub_figures:
            hub.update(figures())
        consumers = {}
        for life in self.lives():
            doc = consumer_snapshot(life, self.stats, now, end)
            for more in self.consumer_figures:
                doc.update(more(life.name))
            consumers[life.name] = doc
        hub["backlog"] = sum(c["backlog"] for c in consumers.values())
        sections = {name: section() for name, section in self.sections.items()}
        return {"hub": hub, "consumers": consumers, **sections}

    def not_ready(self, ready: bool) -> list[str]:
        """Why the hub is not ready ([] when it is)."""
        reasons = not_ready(ready, self.input_connected(), self.lives(), time.time())
        for more in self.reasons:
            reasons.extend(more())
        return reasons
