"""hub.observe.stats: counters never reset, percentiles over a bounded window, rates from
history."""

from __future__ import annotations

import time

from hub.message import Message
from hub.observe.stats import Stats, TimingWindow
from hub.workers.report import Report
from hub.workers.worker import Outcome
from hub.workers.workqueue import Item


def test_percentiles_cover_only_the_window() -> None:
    """Samples older than the horizon are ignored; p50/p99/max are nearest-rank."""
    window = TimingWindow(size=1000, horizon_s=60)
    window.add(0.0, 100.0)
    for n in range(1, 101):
        window.add(100.0, n / 1000)
    summary = window.summary(now=100.0)
    assert summary["count"] == 100
    assert (summary["p50"], summary["p99"], summary["max"]) == (0.05, 0.099, 0.1)


def test_window_is_bounded() -> None:
    """The window keeps at most `size` samples however many are added."""
    window = TimingWindow(size=10, horizon_s=60)
    for n in range(1000):
        window.add(1.0, float(n))
    assert window.summary(1.0)["count"] == 10


def test_snapshot_never_resets_counters() -> None:
    """Reading a consumer's snapshot twice gives the same counts."""
    stats = Stats()
    stats.on_enqueued("c", 3)
    stats.on_outcomes("c", [Outcome("done", 0.1, 0.2, None), Outcome("failed", 0, 0, 1.0)], 5.0)
    first = stats.consumer_figures("c", 5.0)
    second = stats.consumer_figures("c", 5.0)
    assert first["done"] == second["done"] == 1
    assert first["failed"] == 1 and first["enqueued"] == 3


def test_rates_come_from_one_second_history() -> None:
    """in/out rates are deltas over the history ticks."""
    stats = Stats()
    stats.tick(0.0, {"c": 0})
    stats.on_enqueued("c", 50)
    stats.on_outcomes("c", [Outcome("done", 0, 0, None)] * 20, 10.0)
    stats.tick(10.0, {"c": 30})
    assert stats.rate("c") == (5.0, 2.0)


def test_a_large_batch_is_counted_in_full_and_sampled_in_the_windows_keeping_its_max() -> None:
    """1,000 outcomes: all counted, at most 65 timing samples, the slowest one among them."""
    stats = Stats()
    outcomes = [Outcome("done", 0.0, 0.001, 0.5, seq, 2) for seq in range(1000)]
    outcomes[777] = Outcome("dropped", 0.0, 9.0, 0.5, 777)
    stats.on_outcomes("c", outcomes, 1.0)
    snap = stats.consumer_figures("c", 1.0)
    assert snap["done"] == 999 and snap["dropped"] == {"consumer": 1} and snap["retries"] == 999
    assert snap["duration_s"]["count"] <= 65 and snap["duration_s"]["max"] == 9.0


def test_a_report_counts_every_done_message_and_samples_its_timings() -> None:
    """1,000 done in one report: all counted; <= 65 samples; wait, max and latency are right."""
    stats = Stats()
    report = Report()
    now = time.monotonic()
    for seq in range(1000):
        message = Message("t", {"msg": {}, "timestamp": time.time() - 2.0})
        duration = 5.0 if seq == 501 else 0.001
        report.items.append(Item(message, now - 1.0, seq))
        report.starts.append(now)
        report.ends.append(now + duration)
    report.outcomes.append(Outcome("failed", 0.0, 0.0, None, 1000))
    stats.on_report("c", report, now)
    snap = stats.consumer_figures("c", now)
    assert (snap["done"], snap["failed"]) == (1000, 1)
    assert snap["duration_s"]["count"] <= 65 and snap["duration_s"]["max"] == 5.0
    assert 0.99 < snap["queue_wait_s"]["p50"] < 1.01
    assert 1.9 < snap["latency_s"]["p50"] < 2.2
