"""The page's rows: one per consumer and producer, with why it is falling behind.

Pure functions over the snapshot (the one /status serves) and the page's backlog ring; run on
the reactor thread. "Falling behind" is ``top``'s definition (`hub.cli.table.falling_behind`:
backlog grown over its last ``GROWTH_WINDOW`` seconds, a worker stuck, halted with a backlog),
given here with the reason a person reads: "backlog growing for 40 s", "worker stuck 6m02s in
consume()", "halted"; a producer stuck in ``poll()`` or dead is marked too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hub.cli.table import GROWTH_WINDOW, by_backlog, seconds


def growing_for(backlog: Sequence[float | None]) -> int:
    """Seconds the backlog has been growing: back from the last point while it did not fall,
    0 unless it rose over the last ``GROWTH_WINDOW`` seconds."""
    points = [0.0 if b is None else b for b in backlog]
    if len(points) < 2 or points[-1] <= points[max(0, len(points) - 1 - GROWTH_WINDOW)]:
        return 0
    start = len(points) - 1
    while start > 0 and points[start - 1] <= points[start]:
        start -= 1
    return len(points) - 1 - start


def behind_reason(c: dict[str, Any], backlog: Sequence[float | None]) -> str | None:
    """Why consumer ``c`` is falling behind, or None when it keeps up."""
    stuck = [w for w in c.get("workers") or [] if w.get("state") == "stuck"]
    if stuck:
        longest = max(w.get("busy_for_s", 0.0) for w in stuck)
        return f"worker stuck {seconds(longest)} in consume()"
    state = c.get("state")
    if state in ("halted", "failed", "abandoned"):
        return str(state) if c.get("backlog", 0) > 0 or state == "halted" else None
    if c.get("backlog", 0) <= 0:
        return None
    grown = growing_for(backlog or c.get("backlog_history") or [])
    return f"backlog growing for {grown} s" if grown else None


def consumer_row(name: str, c: dict[str, Any], backlog: Sequence[float | None]) -> dict[str, Any]:
    """The figures of one consumer's row, JSON-ready (what the table and page.js show)."""
    wait = c.get("queue_wait_s") or {}
    duration = c.get("duration_s") or {}
    return {
        "kind": "consumer",
        "name": name,
        "state": c.get("state"),
        "backlog": c.get("backlog", 0),
        "oldest_age_s": c.get("oldest_age_s"),
        "in_per_s": c.get("in_per_s"),
        "out_per_s": c.get("out_per_s"),
        "wait_p50_s": wait.get("p50"),
        "wait_p99_s": wait.get("p99"),
        "duration_p50_s": duration.get("p50"),
        "duration_p99_s": duration.get("p99"),
        "failed": c.get("failed", 0),
        "dead_letters": c.get("dead_letters", 0),
        "behind": behind_reason(c, backlog),
    }


def producer_row(name: str, p: dict[str, Any]) -> dict[str, Any]:
    """A producer's row: its state and failures (it has no backlog)."""
    state = p.get("state")
    behind = None
    if state == "stuck":
        behind = f"stuck {seconds(p.get('polling_for_s'))} in poll()"
    elif state == "dead":
        behind = "dead"
    return {"kind": "producer", "name": name, "state": state, "failed": p.get("failures", 0),
            "behind": behind}  # fmt: skip


def rows(
    snapshot: dict[str, Any], backlogs: Mapping[str, Sequence[float | None]]
) -> list[dict[str, Any]]:
    """Consumers by backlog (largest first, then name), then producers by name."""
    out = [consumer_row(n, c, backlogs.get(n, ())) for n, c in by_backlog(snapshot)]
    producers = sorted((snapshot.get("producers") or {}).items())
    return out + [producer_row(n, p) for n, p in producers]
