"""The rings behind the page's charts: fixed-size, sampled from the snapshot once a second.

Runs on the reactor thread only (the page's one-second timer, `hub.observe.page.site`). Nothing
here is touched per message: each sample reads the snapshot that /status and ``top`` show, so
the charts are that same data over time. Two rings per series: ten minutes at one point a second
(``FINE``) and an hour at one point every ``STEP`` seconds (``COARSE``, the last value of each
step), so memory is bounded by (FINE + COARSE) points per series whatever the uptime.
"""

from __future__ import annotations

from collections import deque
from typing import Any

FINE = 600  # ten minutes, one point a second
STEP = 10  # seconds per coarse point
COARSE = 360  # an hour, one point every STEP seconds
CONSUMER_SERIES = ("backlog", "in_per_s", "out_per_s", "wait_p99_s")
HUB_SERIES = ("received_per_s", "decode_errors", "input_paused", "rss_bytes")


class Series:
    """One figure over time: the fine and the coarse ring."""

    def __init__(self) -> None:
        self.fine: deque[float | None] = deque(maxlen=FINE)
        self.coarse: deque[float | None] = deque(maxlen=COARSE)

    def add(self, value: float | None, coarse: bool) -> None:
        self.fine.append(value)
        if coarse:
            self.coarse.append(value)

    def doc(self) -> dict[str, list[float | None]]:
        return {"fine": list(self.fine), "coarse": list(self.coarse)}


def consumer_point(c: dict[str, Any]) -> dict[str, float | None]:
    """The charted figures of one consumer's snapshot entry."""
    wait = c.get("queue_wait_s") or {}
    return {
        "backlog": float(c.get("backlog", 0)),
        "in_per_s": c.get("in_per_s"),
        "out_per_s": c.get("out_per_s"),
        "wait_p99_s": wait.get("p99"),
    }


def hub_point(hub: dict[str, Any]) -> dict[str, float | None]:
    """The charted hub-wide figures; decode errors per cause go in ``decode_errors:<cause>``."""
    causes = hub.get("decode_errors") or {}
    point: dict[str, float | None] = {
        "received_per_s": hub.get("received_per_s"),
        "decode_errors": float(sum(causes.values())),
        "input_paused": 1.0 if hub.get("input_paused") else 0.0,
        "rss_bytes": hub.get("rss_bytes"),
    }
    point.update({f"decode_errors:{cause}": float(n) for cause, n in causes.items()})
    return point


class History:
    """Every series of the page: per consumer and hub-wide."""

    def __init__(self) -> None:
        self.samples = 0
        self.last_at: float | None = None
        self.consumers: dict[str, dict[str, Series]] = {}
        self.hub: dict[str, Series] = {}

    def sample(self, snapshot: dict[str, Any], at: float) -> None:
        """Add one point of every series from ``snapshot`` (taken at ``at``)."""
        coarse = self.samples % STEP == 0
        self.samples += 1
        self.last_at = at
        consumers = snapshot.get("consumers") or {}
        for name in list(self.consumers):
            if name not in consumers:  # removed by a reload: its rings go too
                del self.consumers[name]
        for name, c in consumers.items():
            _add(self.consumers.setdefault(name, {}), consumer_point(c), coarse)
        _add(self.hub, hub_point(snapshot.get("hub") or {}), coarse)

    def doc(self) -> dict[str, Any]:
        """Every ring as JSON-ready lists (fine: 1 s apart, coarse: ``STEP`` s apart)."""
        return {
            "step_s": {"fine": 1, "coarse": STEP},
            "consumers": {n: _docs(s) for n, s in self.consumers.items()},
            "hub": _docs(self.hub),
        }


def _add(series: dict[str, Series], point: dict[str, float | None], coarse: bool) -> None:
    for key, value in point.items():
        series.setdefault(key, Series()).add(value, coarse)


def _docs(series: dict[str, Series]) -> dict[str, dict[str, list[float | None]]]:
    return {key: s.doc() for key, s in series.items()}
