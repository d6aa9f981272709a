"""hub.observe.statsd: the statsd sink's interval, counter deltas, gauges and bounded datagrams."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from statsd import StatsClient
from twisted.internet.task import Clock

from hub.config import StatsdConfig
from hub.observe.statsd import StatsdSink, default_prefix, statsd_lines
from tests.unit.snapshots import snapshot


class FakePipeline:
    def __init__(self, client: FakeClient) -> None:
        self.client = client
        self.lines: list[tuple[str, str, float]] = []

    def incr(self, name: str, value: float) -> None:
        self.lines.append((name, "c", value))

    def gauge(self, name: str, value: float) -> None:
        self.lines.append((name, "g", value))

    def send(self) -> None:
        self.client.flushes.append(self.lines)


class FakeClient:
    """Records each pipeline's lines as one flush."""

    def __init__(self, host: str, port: int, prefix: str | None, maxudpsize: int) -> None:
        self.address = (host, port, prefix, maxudpsize)
        self.flushes: list[list[tuple[str, str, float]]] = []
        self.closed = False

    def pipeline(self) -> FakePipeline:
        return FakePipeline(self)

    def close(self) -> None:
        self.closed = True


class Source:
    """A snapshot callable whose figures a test changes between flushes."""

    def __init__(self) -> None:
        self.doc = snapshot()
        self.fail = False

    def __call__(self) -> dict[str, Any]:
        if self.fail:
            raise RuntimeError("snapshot broke")
        return self.doc


def _sink(interval: float = 10.0) -> tuple[StatsdSink, Clock, Source, list[FakeClient]]:
    clock, source, clients = Clock(), Source(), []

    def factory(*args: Any, **kwargs: Any) -> FakeClient:
        clients.append(FakeClient(*args, **kwargs))
        return clients[-1]

    config = StatsdConfig(enabled=True, port=9999, prefix="hub", interval_s=interval)
    return (
        StatsdSink(clock, config, snapshot=source, client_factory=factory),
        clock,
        source,
        clients,
    )


def _as_dict(lines: list[tuple[str, str, float]]) -> dict[str, tuple[str, float]]:
    return {name: (kind, value) for name, kind, value in lines}


def test_flushes_once_per_interval_on_the_reactor_clock() -> None:
    """Nothing is sent before the first interval; then exactly one flush per interval."""
    sink, clock, _, clients = _sink(interval=10.0)
    sink.start()
    assert clients[0].address == ("127.0.0.1", 9999, "hub", 512)
    clock.advance(9.9)
    assert clients[0].flushes == []
    clock.pump([0.1, 10.0, 10.0])
    assert len(clients[0].flushes) == 3


def test_counters_are_sent_as_deltas_and_gauges_as_levels() -> None:
    """The first flush sends totals; later ones only what grew; gauges every time."""
    sink, clock, source, clients = _sink()
    sink.start()
    clock.advance(10)
    first = _as_dict(clients[0].flushes[0])
    assert first["consumer.audit_log.done"] == ("c", 90)
    assert first["consumer.audit_log.backlog"] == ("g", 7)
    assert first["input_paused_ms"] == ("c", 1500)
    source.doc["consumers"]["audit.log"]["done"] = 95
    source.doc["consumers"]["audit.log"]["backlog"] = 2
    clock.advance(10)
    second = _as_dict(clients[0].flushes[1])
    assert second["consumer.audit_log.done"] == ("c", 5)
    assert second["consumer.audit_log.backlog"] == ("g", 2)
    assert "consumer.audit_log.enqueued" not in second  # no change: no line


def test_timings_are_percentile_gauges_in_milliseconds() -> None:
    """A timing window becomes four gauges in ms, never one line per message."""
    lines = _as_dict(statsd_lines(snapshot()))
    for field, value in (("p50", 10), ("p90", 20), ("p99", 30), ("max", 40)):
        assert lines[f"consumer.audit_log.queue_wait_ms.{field}"] == ("g", value)


def test_a_lower_total_after_a_restart_is_sent_whole() -> None:
    """A counter that went down (the hub restarted) is sent as its new total, never negative."""
    sink, clock, source, clients = _sink()
    sink.start()
    clock.advance(10)
    source.doc["hub"]["received"] = 40
    clock.advance(10)
    assert _as_dict(clients[0].flushes[1])["received"] == ("c", 40)


def test_a_failing_snapshot_skips_one_flush_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception while reading is logged; the next interval flushes again."""
    sink, clock, source, clients = _sink()
    sink.start()
    source.fail = True
    clock.advance(10)
    source.fail = False
    clock.advance(10)
    assert len(clients[0].flushes) == 1
    assert "could not build the snapshot" in caplog.text


def test_stop_sends_a_last_flush_and_closes() -> None:
    """Stopping flushes the counts gathered since the last interval, then closes the socket."""
    sink, clock, source, clients = _sink()
    sink.start()
    clock.advance(10)
    source.doc["consumers"]["audit.log"]["done"] = 91
    sink.stop()
    assert _as_dict(clients[0].flushes[-1])["consumer.audit_log.done"] == ("c", 1)
    assert clients[0].closed
    clock.advance(100)
    assert len(clients[0].flushes) == 2


def test_real_datagrams_respect_the_size_limit() -> None:
    """With the real client, every datagram is at most max_udp_size bytes and lines are whole."""
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    try:
        port = receiver.getsockname()[1]
        config = StatsdConfig(enabled=True, port=port, prefix="hub", max_udp_size=512)
        sink = StatsdSink(Clock(), config, snapshot=snapshot, client_factory=StatsClient)
        sink.start()
        sink.flush()
        expected = sink.lines_sent
        got: list[bytes] = []
        while sum(len(d.split(b"\n")) for d in got) < expected:
            got.append(receiver.recv(65535))
        sink.stop()
    finally:
        receiver.close()
    assert all(len(datagram) <= 512 for datagram in got)
    lines = [line for d in got for line in d.decode().split("\n")]
    assert all(line.startswith("hub.") and line.count("|") == 1 for line in lines)
    assert len(got) <= 5  # one consumer, one producer: a handful of datagrams per interval


def test_plugin_counters_are_sent_as_deltas_under_events() -> None:
    """consumer.<name>.events.<event> is a counter: its total first, then only what grew."""
    sink, clock, source, clients = _sink()
    source.doc["consumers"]["audit.log"]["counters"] = {"skipped": 3}
    sink.start()
    clock.advance(10)
    assert _as_dict(clients[0].flushes[0])["consumer.audit_log.events.skipped"] == ("c", 3)
    clock.advance(10)
    assert "consumer.audit_log.events.skipped" not in _as_dict(clients[0].flushes[1])
    source.doc["consumers"]["audit.log"]["counters"] = {"skipped": 5, "stored": 1}
    clock.advance(10)
    third = _as_dict(clients[0].flushes[2])
    assert third["consumer.audit_log.events.skipped"] == ("c", 2)
    assert third["consumer.audit_log.events.stored"] == ("c", 1)


def test_the_default_prefix_names_the_host_and_the_template_instance() -> None:
    """hub.<host>, plus .<instance> under consumer-hub@<instance>; each part one component."""
    assert default_prefix({}, "db1.example.org") == "hub.db1_example_org"
    env = {"CONSUMER_HUB_INSTANCE": "fast"}
    assert default_prefix(env, "db1") == "hub.db1.fast"
    assert default_prefix({"CONSUMER_HUB_INSTANCE": " "}, "db1") == "hub.db1"


def test_a_sink_without_a_configured_prefix_uses_the_default_one() -> None:
    """prefix unset: the client gets hub.<host>.<instance>; "" still means no prefix at all."""
    clients: list[FakeClient] = []

    def factory(*args: Any, **kwargs: Any) -> FakeClient:
        clients.append(FakeClient(*args, **kwargs))
        return clients[-1]

    env = {"CONSUMER_HUB_INSTANCE": "slow"}
    for prefix in (None, ""):
        config = StatsdConfig(enabled=True, prefix=prefix)
        StatsdSink(Clock(), config, snapshot=snapshot, client_factory=factory, environ=env).start()
    assert clients[0].address[2] == f"hub.{socket.gethostname().replace('.', '_')}.slow"
    assert clients[1].address[2] is None


def test_statsd_gets_percentiles_and_process_figures_but_no_histograms() -> None:
    """Prometheus-only rows (histograms, start time, build info) send nothing to statsd; the
    percentiles, uptime and process figures still go."""
    names = {name for name, _, _ in statsd_lines(snapshot())}
    assert {"uptime_s", "rss_bytes", "open_fds", "upstream_restarts"} <= names
    assert "consumer.audit_log.duration_ms.p99" in names
    assert not [n for n in names if "hist" in n or "started" in n or "version" in n]
