"""Render a ``/status`` document as the text of ``consumer-hub status`` and ``consumer-hub top``:
the hub line, the consumers, and the producers (when there are any).

Pure functions over the decoded JSON; run on the main thread of the command that calls them.
A consumer is *falling behind* when its backlog grew over the last ``GROWTH_WINDOW`` history
points (one a second), when a worker is stuck, or when it is halted/failed with a backlog.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

BARS = "▁▂▃▄▅▆▇█"
GROWTH_WINDOW = 10  # seconds of backlog history that "grew" looks back over
SPARK_WIDTH = 20
SPARK_SPAN = 300  # seconds of history in the sparkline: the last five minutes
RED = "\x1b[1;31m"
RESET = "\x1b[0m"

STATUS_COLUMNS = (
    ("CONSUMER", "<"), ("STATE", "<"), ("BACKLOG", ">"), ("QUEUE", ">"), ("OLDEST", ">"),
    ("IN/S", ">"), ("OUT/S", ">"), ("WAIT p50", ">"), ("WAIT p99", ">"), ("DUR p50", ">"),
    ("DUR p99", ">"), ("DONE", ">"), ("FAILED", ">"), ("DROPPED", ">"),
)  # fmt: skip
TOP_COLUMNS = (
    ("CONSUMER", "<"), ("STATE", "<"), ("BACKLOG", ">"), ("IN/S", ">"), ("OUT/S", ">"),
    ("WAIT p50", ">"), ("WAIT p99", ">"), ("DUR p50", ">"), ("DUR p99", ">"),
    ("BACKLOG, LAST 5 MIN", "<"),
)  # fmt: skip

PRODUCER_COLUMNS = (
    ("PRODUCER", "<"), ("STATE", "<"), ("EVERY", ">"), ("LAST RUN", ">"), ("LAST DUR", ">"),
    ("NEXT IN", ">"), ("POLLS", ">"), ("FAILURES", ">"), ("OVERRUNS", ">"), ("RESTARTS", ">"),
)  # fmt: skip


def seconds(value: float | None) -> str:
    """A duration, short: 850us, 12ms, 3.4s, 5m02s, 2h07m; '-' when unknown."""
    if value is None:
        return "-"
    if value <= 0:
        return "0s"
    return _under_a_minute(value) if value < 60 else _a_minute_or_more(value)


def _under_a_minute(value: float) -> str:
    """0 < ``value`` < 60: 850us, 12ms, 3.4s."""
    if value < 0.001:
        return f"{value * 1e6:.0f}us"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    return f"{value:.1f}s"


def _a_minute_or_more(value: float) -> str:
    """``value`` >= 60: 5m02s, 2h07m."""
    if value < 3600:
        return f"{int(value // 60)}m{int(value % 60):02d}s"
    return f"{int(value // 3600)}h{int(value % 3600 // 60):02d}m"


def rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def sparkline(history: Sequence[int], width: int = SPARK_WIDTH, span: int = SPARK_SPAN) -> str:
    """The last ``span`` points as at most ``width`` bars, each the maximum of its bucket."""
    points = list(history)[-span:]
    if not points:
        return ""
    per = max(1, math.ceil(len(points) / width))
    buckets = [max(points[i : i + per]) for i in range(0, len(points), per)]
    top = max(buckets)
    if top <= 0:
        return BARS[0] * len(buckets)
    return "".join(BARS[min(len(BARS) - 1, math.ceil(b * (len(BARS) - 1) / top))] for b in buckets)


def worker_label(consumer: dict[str, Any]) -> str:
    """The consumer's state, or for a running one what its threads do: idle, busy n/m, stuck."""
    state = str(consumer.get("state", "?"))
    if state != "running":
        return state
    workers = consumer.get("workers") or []
    stuck = [w for w in workers if w.get("state") == "stuck"]
    if stuck:
        return f"stuck {seconds(max(w.get('busy_for_s', 0.0) for w in stuck))}"
    busy = sum(1 for w in workers if w.get("state") == "busy")
    return f"busy {busy}/{len(workers)}" if busy else "idle"


def falling_behind(consumer: dict[str, Any]) -> bool:
    """True when the consumer is not keeping up (see the module docstring)."""
    backlog: int = consumer.get("backlog", 0)
    if any(w.get("state") == "stuck" for w in consumer.get("workers") or []):
        return True
    if consumer.get("state") in ("halted", "failed", "abandoned"):
        return backlog > 0
    history: list[int] = consumer.get("backlog_history") or []
    if backlog <= 0 or len(history) < 2:
        return False
    return history[-1] > history[max(0, len(history) - 1 - GROWTH_WINDOW)]


def hub_line(hub: dict[str, Any]) -> str:
    errors = sum((hub.get("decode_errors") or {}).values())
    connected = "connected" if hub.get("input_connected") else "NOT CONNECTED"
    paused = "  input PAUSED" if hub.get("input_paused") else ""
    return (
        f"hub {hub.get('version', '?')} pid {hub.get('pid', '?')} up {seconds(hub.get('uptime_s'))}"
        f"  received {hub.get('received', 0)} ({rate(hub.get('received_per_s'))}/s)"
        f"  backlog {hub.get('backlog', 0)}  input {connected}{paused}"
        f" (paused {seconds(hub.get('input_paused_s', 0.0))} total)"
        f"  decode errors {errors}  rss {_mib(hub.get('rss_bytes'))}"
        f"  fds {hub.get('open_fds') or '?'}"
    )


def _timings(consumer: dict[str, Any]) -> list[str]:
    wait = consumer.get("queue_wait_s") or {}
    duration = consumer.get("duration_s") or {}
    return [
        seconds(wait.get("p50")),
        seconds(wait.get("p99")),
        seconds(duration.get("p50")),
        seconds(duration.get("p99")),
    ]


def status_row(name: str, c: dict[str, Any]) -> list[str]:
    dropped = sum((c.get("dropped") or {}).values())
    return [
        name, worker_label(c), str(c.get("backlog", 0)), str(c.get("queue_size", "-")),
        seconds(c.get("oldest_age_s")), rate(c.get("in_per_s")), rate(c.get("out_per_s")),
        *_timings(c), str(c.get("done", 0)), str(c.get("failed", 0)), str(dropped),
    ]  # fmt: skip


def top_row(name: str, c: dict[str, Any]) -> list[str]:
    return [
        name, worker_label(c), str(c.get("backlog", 0)), rate(c.get("in_per_s")),
        rate(c.get("out_per_s")), *_timings(c), sparkline(c.get("backlog_history") or []),
    ]  # fmt: skip


def layout(columns: Sequence[tuple[str, str]], rows: list[list[str]]) -> list[str]:
    """Align ``rows`` under ``columns`` (header, '<' or '>'), two spaces apart."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, (h, _) in enumerate(columns)]
    out = []
    for row in [[h for h, _ in columns], *rows]:
        cells = [
            cell.ljust(w) if align == "<" else cell.rjust(w)
            for cell, w, (_, align) in zip(row, widths, columns, strict=True)
        ]
        out.append("  ".join(cells).rstrip())
    return out


def by_backlog(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Consumers, largest backlog first, then by name."""
    consumers = doc.get("consumers") or {}
    return sorted(consumers.items(), key=lambda item: (-item[1].get("backlog", 0), item[0]))


def render_status(doc: dict[str, Any]) -> list[str]:
    """The hub line and one row per consumer (largest backlog first), '!' marking laggards."""
    consumers = by_backlog(doc)
    lines = [hub_line(doc.get("hub") or {}), ""]
    if not consumers:
        return [*lines, "no consumers", *render_producers(doc, time.time())]
    rows = [status_row(name, c) for name, c in consumers]
    table = layout(STATUS_COLUMNS, rows)
    lines.append("  " + table[0])
    for (_, c), line in zip(consumers, table[1:], strict=True):
        lines.append(("! " if falling_behind(c) else "  ") + line)
    return lines + render_producers(doc, time.time())


def render_top(doc: dict[str, Any], color: bool) -> list[str]:
    """The live view: like ``render_status`` with rates, timings and the backlog sparkline."""
    consumers = by_backlog(doc)
    lines = [hub_line(doc.get("hub") or {}), ""]
    if not consumers:
        return [*lines, "no consumers", *render_producers(doc, time.time())]
    table = layout(TOP_COLUMNS, [top_row(name, c) for name, c in consumers])
    lines.append("  " + table[0])
    for (_, c), line in zip(consumers, table[1:], strict=True):
        behind = falling_behind(c)
        if behind and color:
            lines.append(f"{RED}! {line}{RESET}")
        else:
            lines.append(("! " if behind else "  ") + line)
    lines += render_producers(doc, time.time())
    lines += ["", "! = falling behind (backlog growing, worker stuck, or halted with a backlog);",
              "    a producer stuck in poll() or dead"]  # fmt: skip
    return lines


def _ago(when: float | None, now: float) -> str:
    return "-" if when is None else seconds(max(0.0, now - when))


def producer_row(name: str, p: dict[str, Any], now: float) -> list[str]:
    state = str(p.get("state", "?"))
    if state == "stuck":
        state = f"stuck {seconds(p.get('polling_for_s'))}"
    nxt = p.get("next_at")
    return [
        name, state, seconds(p.get("interval_s")), _ago(p.get("last_run_at"), now),
        seconds(p.get("last_duration_s")), "-" if nxt is None else seconds(max(0.0, nxt - now)),
        str(p.get("polls", 0)), str(p.get("failures", 0)), str(p.get("overruns", 0)),
        str(p.get("restarts", 0)),
    ]  # fmt: skip


def render_producers(doc: dict[str, Any], now: float) -> list[str]:
    """A blank line and the producers table, '!' marking stuck or dead ones; [] if none."""
    producers = sorted((doc.get("producers") or {}).items())
    if not producers:
        return []
    table = layout(PRODUCER_COLUMNS, [producer_row(n, p, now) for n, p in producers])
    lines = ["", "  " + table[0]]
    for (_, p), line in zip(producers, table[1:], strict=True):
        lines.append(("! " if p.get("state") in ("stuck", "dead") else "  ") + line)
    return lines


def _mib(size: int | None) -> str:
    """``size`` bytes in MiB; '?' when the hub could not read it."""
    return "?" if size is None else f"{size / 1048576:.0f} MiB"
