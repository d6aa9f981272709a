"""hub.observe.page.rows: sorted by backlog, and why a consumer is falling behind."""

from __future__ import annotations

from typing import Any

from hub.observe.page.rows import behind_reason, growing_for, rows


def _consumer(backlog: int, state: str = "running", **more: Any) -> dict[str, Any]:
    return {"backlog": backlog, "state": state, "workers": [], **more}


def test_growing_for_counts_the_seconds_of_the_rise() -> None:
    """A backlog rising for 40 points (after a dip) has grown for 40 s; a flat one not at all."""
    assert growing_for([5.0, 0.0, *range(1, 41)]) == 40
    assert growing_for([3.0] * 20) == 0
    assert growing_for([]) == 0


def test_reasons_name_growth_stuck_workers_and_halts() -> None:
    """The reason names what is wrong, as a person reads it; keeping up is None."""
    assert behind_reason(_consumer(40), list(range(41))) == "backlog growing for 40 s"
    stuck = _consumer(3, workers=[{"state": "stuck", "busy_for_s": 362.0}])
    assert behind_reason(stuck, []) == "worker stuck 6m02s in consume()"
    assert behind_reason(_consumer(0, "halted"), []) == "halted"
    assert behind_reason(_consumer(5), [5.0] * 20) is None


def test_rows_sorted_by_backlog_then_producers() -> None:
    """Consumers by backlog, largest first, then the producers, a dead one marked."""
    snapshot = {"consumers": {"a": _consumer(1), "b": _consumer(9)},
                "producers": {"p": {"state": "dead", "failures": 2}}}  # fmt: skip
    out = rows(snapshot, {})
    assert [(r["kind"], r["name"]) for r in out] == [
        ("consumer", "b"), ("consumer", "a"), ("producer", "p")
    ]  # fmt: skip
    assert out[2]["behind"] == "dead" and out[2]["failed"] == 2
