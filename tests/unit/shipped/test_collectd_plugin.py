"""plugins/collectd: what the plugin dispatches for a /status document (no collectd needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from tests.unit.snapshots import snapshot

PLUGIN = Path(__file__).resolve().parents[3] / "plugins" / "collectd" / "consumer_hub_collectd.py"


def _plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("consumer_hub_collectd", PLUGIN)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _values() -> dict[tuple[str, str, str], float]:
    return {(pi, t, ti): v for pi, t, ti, v in _plugin().values_from_status(snapshot())}


def test_consumer_values_use_collectds_types() -> None:
    """Backlog is queue_length, counters derive, wait latency, duration response_time."""
    values = _values()
    assert values[("audit.log", "queue_length", "backlog")] == 7
    assert values[("audit.log", "derive", "done")] == 90
    assert values[("audit.log", "latency", "queue_wait-p99")] == 0.03
    assert values[("audit.log", "response_time", "duration-max")] == 0.04
    assert values[("audit.log", "count", "workers-busy")] == 1
    assert values[("audit.log", "duration", "oldest_age")] == 2.25
    assert not [k for k in values if k[2].startswith("end_to_end")]  # empty window


def test_hub_values_sit_under_an_empty_plugin_instance() -> None:
    """Hub-wide counters, decode errors by cause, memory and descriptors."""
    values = _values()
    assert values[("", "derive", "received")] == 100
    assert values[("", "derive", "decode_errors-json")] == 4
    assert values[("", "total_time_in_ms", "input_paused")] == 1500
    assert values[("", "memory", "rss")] == 50_000_000


def test_plugin_counters_are_derive_values_named_events() -> None:
    """A consumer's counters {"skipped": 3} is derive events-skipped, as dropped-<cause> is."""
    doc = snapshot(counters={"skipped": 3, "stored": 0})
    values = {(pi, t, ti): v for pi, t, ti, v in _plugin().values_from_status(doc)}
    assert values[("audit.log", "derive", "events-skipped")] == 3
    assert values[("audit.log", "derive", "events-stored")] == 0
    assert not [k for k in _values() if k[2].startswith("events-")]  # no counters: no value


def test_putval_lines_name_host_plugin_and_type() -> None:
    """The by-hand check mode prints exec-plugin PUTVAL lines."""
    lines = _plugin().putval_lines(snapshot(), "h", 10)
    assert 'PUTVAL "h/consumer_hub-audit.log/queue_length-backlog" interval=10 N:7' in lines
    assert 'PUTVAL "h/consumer_hub/uptime" interval=10 N:12.5' in lines


def test_importing_outside_collectd_registers_nothing() -> None:
    """Without the collectd module the plugin only defines functions."""
    assert _plugin().collectd is None
