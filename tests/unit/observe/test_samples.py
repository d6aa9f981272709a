"""hub.observe.samples: one walk of the snapshot names every exported value for every sink."""

from __future__ import annotations

from hub.observe.samples import safe_name, samples, statsd_name
from tests.unit.snapshots import snapshot


def _by_statsd_name() -> dict[str, float]:
    return {statsd_name(s): s.value for s in samples(snapshot()) if s.metric.statsd is not None}


def test_hub_and_consumer_figures_get_statsd_names() -> None:
    """Hub figures sit under the prefix, consumer figures under consumer.<name>."""
    names = _by_statsd_name()
    assert names["received"] == 100
    assert names["decode_errors.json"] == 4
    assert names["consumer.audit_log.backlog"] == 7
    assert names["consumer.audit_log.queue_wait_ms.p99"] == 0.03


def test_timing_windows_without_samples_export_nothing() -> None:
    """An empty latency window yields no value rather than a made-up zero."""
    assert not [n for n in _by_statsd_name() if ".latency_ms." in n]


def test_workers_and_state_become_one_value_per_state() -> None:
    """Worker threads are counted per state, and the consumer state is one-hot."""
    names = _by_statsd_name()
    assert names["consumer.audit_log.workers.busy"] == 1
    assert names["consumer.audit_log.workers.idle"] == 1
    assert names["consumer.audit_log.workers.stuck"] == 0
    assert names["consumer.audit_log.state.running"] == 1
    assert names["consumer.audit_log.state.halted"] == 0


def test_rows_absent_from_the_snapshot_are_skipped() -> None:
    """backlog_disk appears only once a snapshot carries it."""
    assert "consumer.audit_log.backlog_disk" not in _by_statsd_name()
    doc = snapshot(backlog_disk=5)
    assert {statsd_name(s): s.value for s in samples(doc)}["consumer.audit_log.backlog_disk"] == 5


def test_names_are_safe_graphite_components() -> None:
    """Dots, spaces and slashes in consumer names or causes become underscores."""
    assert safe_name("a.b c/d") == "a_b_c_d"
    assert safe_name("") == "_"


PRODUCER = {"polls": 9, "failures": 3, "overruns": 1, "restarts": 0, "last_duration_s": 0.25,
            "last_run_at": 1700000000.5, "stuck": False, "state": "idle"}  # fmt: skip


def test_producer_figures_sit_under_producer_name() -> None:
    """Producer rows go under producer.<name>, durations in ms, the state one-hot."""
    names = {statsd_name(s): s.value for s in samples({"producers": {"ticker": PRODUCER}})}
    assert names["producer.ticker.polls"] == 9 and names["producer.ticker.failures"] == 3
    assert names["producer.ticker.last_duration_ms"] == 0.25  # scaled by the sink
    assert names["producer.ticker.state.idle"] == 1 and names["producer.ticker.state.dead"] == 0
    assert names["producer.ticker.stuck"] == 0
    assert names["producer.ticker.last_run_at"] == 1700000000.5


def test_plugin_counters_become_events_by_event_name() -> None:
    """A consumer's counters mapping is one counter row, by event, under consumer.<name>.events."""
    doc = snapshot(counters={"skipped": 3, "stored": 0})
    found = [s for s in samples(doc) if s.metric.key == "counters"]
    assert [(s.label, statsd_name(s), s.value) for s in found] == [
        (("event", "skipped"), "consumer.audit_log.events.skipped", 3.0),
        (("event", "stored"), "consumer.audit_log.events.stored", 0.0),
    ]
    assert not [s for s in samples(snapshot()) if s.metric.key == "counters"]  # none: no row


def test_a_histogram_is_one_sample_with_its_count_sum_and_cumulative_buckets() -> None:
    """duration_hist becomes one sample: value = count, buckets cumulative, total = the sum."""
    found = [s for s in samples(snapshot()) if s.metric.key == "duration_hist"]
    assert len(found) == 1 and found[0].value == 4 and abs(found[0].total - 75.0441) < 1e-9
    counts = dict(found[0].buckets)
    assert (counts[0.0005], counts[0.005], counts[0.05], counts[60.0]) == (1, 2, 3, 3)


def test_the_version_is_one_info_sample_labelled_with_it() -> None:
    """version "0.1.0" is a sample of 1 with label version="0.1.0", for build_info."""
    found = [s for s in samples(snapshot()) if s.metric.key == "version"]
    assert [(s.label, s.value, s.metric.prom) for s in found] == [
        (("version", "0.1.0"), 1.0, "build_info")
    ]
