"""hub.observe.prometheus: /metrics is valid Prometheus text built from the snapshot at scrape
time."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from hub.observe.prometheus import MetricsPage
from tests.unit.scrape import FakeRequest, assert_consistent, histogram_series
from tests.unit.snapshots import snapshot


def _scrape(doc: dict[str, Any]) -> tuple[dict[tuple[str, tuple], float], dict[str, str], bytes]:
    request = FakeRequest()
    body = MetricsPage(lambda: doc).render(request)  # type: ignore[arg-type]
    values, types = {}, {}
    for family in text_string_to_metric_families(body.decode()):
        types[family.name] = family.type
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values, types, request.headers[b"content-type"]


def test_metrics_parse_with_types_labels_and_values() -> None:
    """Counters end in _total, levels are gauges, every consumer series has its label."""
    values, types, content_type = _scrape(snapshot())
    assert content_type.startswith(b"text/plain; version=")
    assert types["consumer_hub_received"] == "counter"
    assert values[("consumer_hub_received_total", ())] == 100
    assert values[("consumer_hub_decode_errors_total", (("cause", "json"),))] == 4
    assert values[("consumer_hub_input_paused_seconds_total", ())] == 1.5
    assert types["consumer_hub_consumer_backlog"] == "gauge"
    assert values[("consumer_hub_consumer_backlog", (("consumer", "audit.log"),))] == 7
    assert values[("consumer_hub_consumer_done_total", (("consumer", "audit.log"),))] == 90


def test_timings_are_histograms_with_cumulative_buckets_sum_and_count() -> None:
    """duration is a histogram: _bucket by le (cumulative, +Inf = _count), _sum; no quantile."""
    values, types, _ = _scrape(snapshot())
    assert types["consumer_hub_consumer_duration_seconds"] == "histogram"
    consumer = (("consumer", "audit.log"),)
    bucket = "consumer_hub_consumer_duration_seconds_bucket"
    assert values[(bucket, (*consumer, ("le", "0.0005")))] == 1
    assert values[(bucket, (*consumer, ("le", "0.05")))] == 3
    assert values[(bucket, (*consumer, ("le", "60.0")))] == 3
    assert values[(bucket, (*consumer, ("le", "+Inf")))] == 4
    assert values[("consumer_hub_consumer_duration_seconds_count", consumer)] == 4
    assert abs(values[("consumer_hub_consumer_duration_seconds_sum", consumer)] - 75.0441) < 1e-9
    assert not [key for key in values if dict(key[1]).get("quantile")]


def test_histograms_are_consistent_for_the_parser() -> None:
    """Every histogram: buckets sorted by le, cumulative counts never fall, +Inf == _count."""
    body = MetricsPage(snapshot).render(FakeRequest()).decode()  # type: ignore[arg-type]
    histograms = histogram_series(body)
    assert {name for name, _ in histograms} >= {
        "consumer_hub_consumer_queue_wait_seconds",
        "consumer_hub_consumer_duration_seconds",
        "consumer_hub_consumer_latency_seconds",
    }
    for (name, labels), series in histograms.items():
        assert_consistent(name, labels, series)


def test_process_platform_build_info_and_start_time_are_exported() -> None:
    """process_* and python_info from prometheus-client's collectors; the hub's own version and
    start time; none of the old stand-ins."""
    values, types, _ = _scrape(snapshot())
    names = {name for name, _ in values}
    assert {"process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds",
            "process_cpu_seconds_total", "python_info"} <= names  # fmt: skip
    assert values[("consumer_hub_build_info", (("version", "0.1.0"),))] == 1
    assert types["consumer_hub_start_time_seconds"] == "gauge"
    assert values[("consumer_hub_start_time_seconds", ())] == 1_700_000_000.25
    gone = {"consumer_hub_uptime_seconds", "consumer_hub_resident_memory_bytes",
            "consumer_hub_open_fds"}  # fmt: skip
    assert not names & gone


def test_upstream_restarts_and_pause_help_are_current() -> None:
    """upstream_restarts is a counter; the pause help names the disk, not a full queue."""
    body = MetricsPage(snapshot).render(FakeRequest()).decode()  # type: ignore[arg-type]
    values, _, _ = _scrape(snapshot())
    assert values[("consumer_hub_upstream_restarts_total", ())] == 1
    help_line = next(line for line in body.splitlines()
                     if line.startswith("# HELP consumer_hub_input_pauses_total"))  # fmt: skip
    assert "disk" in help_line and "full queue" not in body


def test_each_scrape_reads_a_fresh_snapshot() -> None:
    """The page calls the snapshot on every request, so a scrape is never stale."""
    doc = snapshot()
    page = MetricsPage(lambda: doc)
    page.render(FakeRequest())  # type: ignore[arg-type]
    doc["consumers"]["audit.log"]["backlog"] = 55
    body = page.render(FakeRequest()).decode()  # type: ignore[arg-type]
    assert 'consumer_hub_consumer_backlog{consumer="audit.log"} 55.0' in body


def test_worker_and_consumer_states_are_labelled_gauges() -> None:
    """Workers are counted per state; the consumer state is one-hot over every state."""
    values, _, _ = _scrape(snapshot())
    busy = (("consumer", "audit.log"), ("state", "busy"))
    assert values[("consumer_hub_consumer_workers", busy)] == 1
    running = (("consumer", "audit.log"), ("state", "running"))
    stopped = (("consumer", "audit.log"), ("state", "stopped"))
    assert values[("consumer_hub_consumer_state", running)] == 1
    assert values[("consumer_hub_consumer_state", stopped)] == 0


def test_producer_series_carry_the_producer_label() -> None:
    """polls/failures/overruns are counters, last duration and stuck gauges, by producer."""
    tick = {"polls": 9, "failures": 3, "overruns": 1, "last_duration_s": 0.25, "stuck": True,
            "state": "stuck"}  # fmt: skip
    doc = {"producers": {"tick": tick}}
    values, types, _ = _scrape(doc)
    label = (("producer", "tick"),)
    assert types["consumer_hub_producer_polls"] == "counter"
    assert values[("consumer_hub_producer_polls_total", label)] == 9
    assert values[("consumer_hub_producer_failures_total", label)] == 3
    assert values[("consumer_hub_producer_overruns_total", label)] == 1
    assert values[("consumer_hub_producer_last_duration_seconds", label)] == 0.25
    assert values[("consumer_hub_producer_stuck", label)] == 1
    assert values[("consumer_hub_producer_state", (("producer", "tick"), ("state", "stuck")))] == 1


def test_plugin_counters_are_one_events_counter_family_labelled_by_event() -> None:
    """counters {"skipped": 3} is consumer_hub_consumer_events_total{consumer, event}."""
    values, types, _ = _scrape(snapshot(counters={"skipped": 3, "stored": 12}))
    assert types["consumer_hub_consumer_events"] == "counter"
    skipped = (("consumer", "audit.log"), ("event", "skipped"))
    assert values[("consumer_hub_consumer_events_total", skipped)] == 3
    stored = (("consumer", "audit.log"), ("event", "stored"))
    assert values[("consumer_hub_consumer_events_total", stored)] == 12
