"""hub.observe.page.history: bounded rings sampled from the snapshot, fine and coarse."""

from __future__ import annotations

from typing import Any

from hub.observe.page.history import COARSE, FINE, STEP, History


def _snapshot(backlog: int, causes: dict[str, int] | None = None) -> dict[str, Any]:
    consumer = {"backlog": backlog, "in_per_s": 2.0, "out_per_s": 1.0,
                "queue_wait_s": {"p99": 0.5}}  # fmt: skip
    hub = {"received_per_s": 3.0, "decode_errors": causes or {}, "input_paused": True,
           "rss_bytes": 1000}  # fmt: skip
    return {"hub": hub, "consumers": {"c": consumer}}


def test_rings_stay_bounded_and_coarse_keeps_one_point_a_step() -> None:
    """After hours of samples each ring holds its fixed size; coarse takes every STEP-th."""
    history = History()
    for n in range(STEP * COARSE + 50):
        history.sample(_snapshot(n), float(n))
    backlog = history.consumers["c"]["backlog"]
    assert len(backlog.fine) == FINE and len(backlog.coarse) == COARSE
    assert backlog.fine[-1] == STEP * COARSE + 49
    assert backlog.coarse[-1] == (STEP * COARSE + 49) // STEP * STEP


def test_hub_series_and_decode_causes_and_removed_consumers() -> None:
    """Hub figures are charted (paused as 1/0, causes apart); a consumer gone loses its rings."""
    history = History()
    history.sample(_snapshot(1, {"json": 2}), 1.0)
    doc = history.doc()
    assert doc["hub"]["decode_errors"]["fine"] == [2.0]
    assert doc["hub"]["decode_errors:json"]["fine"] == [2.0]
    assert doc["hub"]["input_paused"]["fine"] == [1.0]
    assert doc["consumers"]["c"]["wait_p99_s"]["fine"] == [0.5]
    history.sample({"hub": {}, "consumers": {}}, 2.0)
    assert history.doc()["consumers"] == {}
