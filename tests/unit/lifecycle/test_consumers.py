"""hub.lifecycle.consumers: each consumer name's plugin counters last, and /status shows them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hub.lifecycle.consumers import Consumers
from hub.plugins.kinds import Kind


def _consumers() -> Consumers:
    """A `Consumers` whose parts are never reached by the methods under test."""
    none: Any = None
    return Consumers(reactor=none, durable=none, dead_letters=none, retry=none,
                     on_report=none, input_open=none, shares=none)  # fmt: skip


def _live(consumers: Consumers, name: str, instance: Any) -> None:
    """Pretend ``instance`` runs as ``name`` (only what plugin_figures reads)."""
    loaded = SimpleNamespace(instance=instance, kind=Kind.HUB)
    consumers.lives[name] = SimpleNamespace(loaded=loaded)  # type: ignore[assignment]


def test_a_name_keeps_one_counters_object_for_the_life_of_the_process() -> None:
    """counters_of gives the same object every time: a reload's new instance counts on."""
    consumers = _consumers()
    first = consumers.counters_of("archive")
    first.add("skipped", 2)
    consumers.lives.pop("archive", None)  # forgotten (removed), then re-added
    again = consumers.counters_of("archive")
    assert again is first and again.totals() == {"skipped": 2}
    assert consumers.counters_of("other") is not first


def test_status_figures_carry_the_counters_beside_the_plugins_own_figures() -> None:
    """plugin_figures: kind, a plugin's figures(), and counters (empty until something counts)."""
    consumers = _consumers()
    _live(consumers, "archive", SimpleNamespace(figures=lambda: {"schema_unknown": 1}))
    assert consumers.plugin_figures("archive") == {
        "kind": "hub", "schema_unknown": 1, "counters": {}
    }  # fmt: skip
    consumers.counters_of("archive").add("skipped", 3)
    assert consumers.plugin_figures("archive")["counters"] == {"skipped": 3}
    assert consumers.plugin_figures("archive")["counters"] == {"skipped": 3}  # no reset
    assert consumers.plugin_figures("gone") == {}
