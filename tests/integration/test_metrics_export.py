"""statsd, /metrics and /status from a real hub subprocess: names, types, values, agreement;
histograms that count every message, process_* metrics, and no figure left out (drift)."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.observe.metricdefs import SECTIONS, undeclared
from hub.observe.samples import prom_name, safe_name
from hub.observe.statsd import statsd_lines
from tests.integration.harness import (
    HubProcess,
    TestPublisher,
    hub_config,
    recorder,
    wait_records,
    wait_until,
)
from tests.integration.statsd_listener import StatsdListener
from tests.unit.scrape import assert_consistent, histogram_series

pytestmark = pytest.mark.integration

INTERVAL_S = 0.2


@pytest.fixture
def statsd() -> Iterator[StatsdListener]:
    listener = StatsdListener().start()
    yield listener
    listener.close()


def _statsd(listener: StatsdListener, prefix: str = "t") -> dict[str, Any]:
    return {"enabled": True, "port": listener.port, "prefix": prefix, "interval_s": INTERVAL_S}


def _prometheus(hub: HubProcess) -> dict[tuple[str, tuple], float]:
    code, body = hub.get("/metrics")
    assert code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_statsd_receives_names_types_and_exact_counts_for_a_known_stream(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], statsd: StatsdListener
) -> None:
    """12 good, 4 failing, 2 malformed messages: deltas add up exactly, gauges and timings too."""
    consumers = {"rec": recorder(tmp_path / "rec.jsonl", ["org.test.*"], fail_topics=["*.bad"])}
    hub = HubProcess(tmp_path, hub_config(publisher.endpoint, consumers, statsd=_statsd(statsd)))
    hubs.append(hub.start())
    publisher.wait_subscribed(["org.test."])
    for n in range(16):
        publisher.send({"topic": "org.test.bad" if n % 4 == 3 else "org.test.ok", "msg": {"n": n}})
    publisher.send_raw([b"org.test.ok", b"{not json"])
    publisher.send_raw([b"org.test.ok", b"[1, 2]"])
    wait_records(tmp_path / "rec.jsonl", 12)
    wait_until(lambda: hub.status()["consumers"]["rec"]["failed"] == 4, what="4 failures")
    final = hub.status()
    assert hub.stop() == 0  # the sink sends a last flush on the way out
    expected = {
        "t.received": 18, "t.consumer.rec.enqueued": 16, "t.consumer.rec.done": 12,
        "t.consumer.rec.failed": 4,
        **{f"t.decode_errors.{c}": n for c, n in final["hub"]["decode_errors"].items()},
    }  # fmt: skip
    assert sum(final["hub"]["decode_errors"].values()) == 2
    totals = lambda: {name: statsd.counter_total(name) for name in expected}  # noqa: E731
    wait_until(lambda: totals() == expected, 10, f"counter totals {expected}, got {totals()}")
    lines = statsd.lines()
    kinds = {name: kind for name, _, kind in lines}
    assert kinds["t.consumer.rec.backlog"] == "g" and kinds["t.backlog"] == "g"
    assert statsd.gauges("t.consumer.rec.backlog")[-1] == 0
    for q in ("p50", "p90", "p99", "max"):
        assert kinds[f"t.consumer.rec.duration_ms.{q}"] == "g"
        assert statsd.gauges(f"t.consumer.rec.queue_wait_ms.{q}")[-1] >= 0
    assert set(kinds.values()) == {"c", "g"}  # no per-message timers
    assert all(len(gram) <= 512 for gram in statsd.datagrams)


def _pending(tmp_path: Path, sent: int) -> int:
    done = tmp_path / "gate.txt"
    return sent - (len(done.read_text().split()) if done.exists() else 0)


def _agree(hub: HubProcess, statsd: StatsdListener, tmp_path: Path, sent: int, done: int) -> None:
    """Wait until `done` are recorded and the next is held in consume(); check every source.

    The backlog is exact at any moment (queue plus each worker's untaken batch); ``done`` may
    lag by the outcomes of the last 50 ms while the consumer is blocked, so it is not compared
    until the queue has run dry.
    """
    in_hand = min(1, sent - done)

    def settled() -> dict[str, Any] | None:
        # read the file before the status too: a status fetched while the gate was still
        # moving must not pass for the frozen state
        before = sent - _pending(tmp_path, sent)
        c = hub.status()["consumers"]["gate"]
        busy = [w["msg_id"] for w in c["workers"] if w["state"] == "busy"]
        recorded = sent - _pending(tmp_path, sent)
        # ... and the message in consume() must be the next one, not the one just recorded
        frozen = before == recorded == done and busy == [f"gate-{done}"][:in_hand]
        return c if frozen and c["enqueued"] == sent else None

    status = wait_until(settled, 20, f"{done} of {sent} consumed")
    pending = _pending(tmp_path, sent) - in_hand  # published, not recorded, not in consume()
    assert pending == sent - done - in_hand
    assert status["backlog"] == pending
    assert status["backlog_memory"] == pending
    assert (status["oldest_age_s"] > 0) == (pending > 0)
    assert hub.status()["hub"]["backlog"] == pending
    metrics = _prometheus(hub)
    assert metrics[("consumer_hub_consumer_backlog", (("consumer", "gate"),))] == pending
    assert metrics[("consumer_hub_backlog", ())] == pending
    assert statsd.next_gauge("g.consumer.gate.backlog") == pending
    assert statsd.next_gauge("g.backlog") == pending
    if not pending and not in_hand:
        counted = ("consumer_hub_consumer_done_total", (("consumer", "gate"),))
        wait_until(lambda: _prometheus(hub)[counted] == done, 5, "done counted")


def test_status_metrics_and_statsd_agree_while_a_backlog_builds_and_drains(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], statsd: StatsdListener
) -> None:
    """Frozen at 0, 25 and 60 of 60 consumed: each source shows exactly what is pending."""
    allow = tmp_path / "allow"
    allow.write_text("0")
    gate = {"class": "tests.gate:Gate", "topics": ["org.test.*"],
            "config": {"allow": str(allow), "path": str(tmp_path / "gate.txt")}}  # fmt: skip
    config = hub_config(publisher.endpoint, {"gate": gate}, statsd=_statsd(statsd, "g"))
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    publisher.wait_subscribed(["org.test."])
    for n in range(60):
        publisher.send({"topic": "org.test.gate", "msg": {"n": n}, "msg_id": f"gate-{n}"})
    _agree(hub, statsd, tmp_path, sent=60, done=0)
    allow.write_text("25")
    _agree(hub, statsd, tmp_path, sent=60, done=25)
    allow.write_text("60")
    _agree(hub, statsd, tmp_path, sent=60, done=60)
    assert hub.stop() == 0


def _events(hub: HubProcess, event: str) -> float | None:
    """consumer_hub_consumer_events_total of consumer "arch" and ``event``, as /metrics has it."""
    return _prometheus(hub).get(
        ("consumer_hub_consumer_events_total", (("consumer", "arch"), ("event", event)))
    )


def _counted(hub: HubProcess, done: int, counters: dict[str, int]) -> bool:
    consumer = hub.status()["consumers"]["arch"]
    return bool(consumer["done"] == done and consumer["counters"] == counters)


def test_a_plugins_own_counters_reach_status_metrics_and_statsd_and_outlive_a_reload(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess], statsd: StatsdListener
) -> None:
    """A 2-thread consumer counts 4 skips of 10, then a reload replaces it and it counts 2 more:
    /status, /metrics and statsd show 6, and setups 2 (counters are there before setup())."""
    skips = {"class": "tests.plugins:SkipsRepeats", "threads": 2, "config": {"generation": 1}}
    config = hub_config(publisher.endpoint, {"arch": skips}, statsd=_statsd(statsd, "k"))
    hub = HubProcess(tmp_path, config)
    hubs.append(hub.start())
    publisher.wait_subscribed(["org.test."])
    for n in range(10):
        publisher.send({"topic": "org.test.archive", "msg": {"n": n, "repeat": n % 3 == 0}})
    counted = {"setups": 1, "skipped": 4}
    wait_until(lambda: _counted(hub, 10, counted), what=f"10 done, counters {counted}")
    assert _events(hub, "skipped") == 4 and _events(hub, "setups") == 1
    hub.config["consumers"]["arch"]["config"] = {"generation": 2}  # a new instance
    hub.write_config()
    hub.signal(signal.SIGHUP)
    assert "restarted arch" in hub.wait_for_log("reload applied from")
    for n in range(2):
        publisher.send({"topic": "org.test.archive", "msg": {"n": n, "repeat": True}})
    counted = {"setups": 2, "skipped": 6}
    wait_until(lambda: _counted(hub, 12, counted), what=f"12 done, counters {counted}")
    assert _events(hub, "skipped") == 6 and _events(hub, "setups") == 2
    assert hub.status()["consumers"]["arch"]["failed"] == 0
    assert hub.stop() == 0  # the last flush sends what is left
    expected = {"k.consumer.arch.events.skipped": 6, "k.consumer.arch.events.setups": 2}
    totals = lambda: {name: statsd.counter_total(name) for name in expected}  # noqa: E731
    wait_until(lambda: totals() == expected, 10, f"statsd totals {expected}, got {totals()}")


def _histogram_hub(tmp_path: Path, publisher: TestPublisher, **extra: Any) -> HubProcess:
    """A hub whose recorder fails ``*.bad`` and whose producer ``ticker`` polls every 0.1 s."""
    consumers = {"rec": recorder(tmp_path / "rec.jsonl", ["org.test.*"], fail_topics=["*.bad"])}
    producers = {"ticker": {"class": "tests.plugins:EveryThird", "interval_s": 0.1}}
    config = hub_config(publisher.endpoint, consumers, producers=producers, **extra)
    hub = HubProcess(tmp_path, config)
    hub.start()
    publisher.wait_subscribed(["org.test."])
    for n in range(40):  # 10 fail; the last 10 carry no timestamp
        envelope = {"topic": "org.test.bad" if n % 4 == 3 else "org.test.ok", "msg": {"n": n}}
        publisher.send(envelope if n >= 30 else {**envelope, "timestamp": time.time()})
    wait_records(tmp_path / "rec.jsonl", 30)
    wait_until(lambda: hub.status()["consumers"]["rec"]["failed"] == 10, what="10 failures")
    wait_until(lambda: hub.status()["producers"]["ticker"]["polls"] >= 2, what="two polls")
    return hub


def test_a_real_scrape_has_exact_consistent_histograms_and_the_process_metrics(
    tmp_path: Path, publisher: TestPublisher, hubs: list[HubProcess]
) -> None:
    """Parsed by prometheus-client: every histogram's buckets are cumulative with +Inf ==
    _count; duration counts done + failed exactly (40), latency the 30 with a timestamp;
    process_*, python_info, build_info and the start time are there."""
    hub = _histogram_hub(tmp_path, publisher)
    hubs.append(hub)
    code, body = hub.get("/metrics")
    status = hub.status()
    assert code == 200
    histograms = histogram_series(body.decode())
    for (name, labels), series in histograms.items():
        assert_consistent(name, labels, series)
    rec = (("consumer", "rec"),)
    family = "consumer_hub_consumer_"
    c = status["consumers"]["rec"]
    assert c["done"] + c["failed"] == 40 == c["duration_hist"]["count"]
    assert histograms[(family + "duration_seconds", rec)]["count"] == 40
    assert histograms[(family + "queue_wait_seconds", rec)]["count"] == 40
    assert histograms[(family + "latency_seconds", rec)]["count"] == 30
    values = _prometheus(hub)
    for name in ("process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total",
                 "process_start_time_seconds", "process_max_fds"):  # fmt: skip
        assert values[(name, ())] > 0, name
    assert [k for k in values if k[0] == "python_info"]
    assert values[("consumer_hub_build_info", (("version", status["hub"]["version"]),))] == 1
    assert values[("consumer_hub_start_time_seconds", ())] == status["hub"]["started_at"]
    assert hub.stop() == 0


def _sections(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"hub": status["hub"], "consumer": status["consumers"]["rec"],
            "producer": status["producers"]["ticker"]}  # fmt: skip


def test_every_status_figure_is_exported_and_every_metric_is_a_figure(
    tmp_path: Path,
    publisher: TestPublisher,
    hubs: list[HubProcess],
    statsd: StatsdListener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The drift test, on a real hub with a consumer and a producer: each /status key is a row
    or /status-only, each row's key is in /status, each row with a Prometheus name is a family
    of /metrics (or names the family that stands in), and each statsd gauge arrives, under the
    default prefix hub.<host>.<instance> (no prefix configured, run as an instance)."""
    monkeypatch.setenv("CONSUMER_HUB_INSTANCE", "drift")
    config = {"enabled": True, "port": statsd.port, "interval_s": INTERVAL_S}
    hub = _histogram_hub(tmp_path, publisher, statsd=config)
    hubs.append(hub)
    status = hub.status()
    code, body = hub.get("/metrics")
    assert code == 200
    families = {f.name for f in text_string_to_metric_families(body.decode())}
    for section, doc in _sections(status).items():
        assert undeclared(section, doc) == set(), section
        assert {m.key for m in SECTIONS[section]} - set(doc) == set(), section
        for row in SECTIONS[section]:
            if row.prom is None:
                assert row.prom_instead in families, row.key
            elif doc[row.key] not in (None, {}):  # unknown, or no cause counted yet: no series
                assert prom_name(row, section != "hub") in families, row.key
    prefix = f"hub.{safe_name(socket.gethostname())}.drift."
    gauges = [prefix + name for name, kind, _ in statsd_lines(status) if kind == "g"]
    wait_until(lambda: all(statsd.gauges(name) for name in gauges), 10, "every statsd gauge")
    assert all(name.startswith(prefix) for name, _, _ in statsd.lines())
    assert hub.stop() == 0
