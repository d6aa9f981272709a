"""hub.observe.histograms: every finished message is counted into cumulative buckets, exactly."""

from __future__ import annotations

import time

from hub.message import Message
from hub.observe.histograms import FOLD_AT, Histogram, Timings
from hub.observe.stats import Stats
from hub.workers.delivery import Fate, Outcome
from hub.workers.report import Report
from hub.workers.workqueue import Item


def _report(count: int, timestamp: object = "now", duration: float = 0.002) -> Report:
    report = Report()
    now = time.monotonic()
    for seq in range(count):
        sent = time.time() - 2.0 if timestamp == "now" else timestamp
        envelope = {"msg": {}} if sent is None else {"msg": {}, "timestamp": sent}
        report.items.append(Item(Message("t", envelope), now - 0.02, seq))
        report.starts.append(now)
        report.ends.append(now + duration)
    return report


def test_buckets_are_cumulative_and_le_is_inclusive() -> None:
    """A value equal to a bound counts in that bound's bucket; counts only grow per bound."""
    histogram = Histogram((0.1, 1.0, 10.0))
    histogram.add([0.05, 0.1, 0.5, 1.0, 20.0])
    figures = histogram.figures()
    assert figures["buckets"] == [[0.1, 2], [1.0, 4], [10.0, 4]]
    assert figures["count"] == 5 and abs(figures["sum"] - 21.65) < 1e-9


def test_values_are_counted_whether_folded_early_or_at_read() -> None:
    """More than FOLD_AT values, added in pieces: the figures count each exactly once."""
    histogram = Histogram((1.0,))
    for _ in range(3):
        histogram.add([0.5] * (FOLD_AT - 1))
    figures = histogram.figures()
    assert figures["count"] == 3 * (FOLD_AT - 1) == figures["buckets"][0][1]
    assert histogram.figures() == figures  # reading twice changes nothing


def test_a_negative_value_counts_as_zero() -> None:
    """A latency below 0 (the publisher's clock ahead) is in the first bucket and adds 0."""
    histogram = Histogram((0.01, 1.0))
    histogram.add([-3.0, 0.5])
    assert histogram.figures() == {"count": 2, "sum": 0.5, "buckets": [[0.01, 1], [1.0, 2]]}


def test_a_report_counts_every_done_message_in_all_three() -> None:
    """1,000 done messages: each histogram counts 1,000, in the buckets their timings fall in."""
    timings = Timings()
    timings.observe_report(_report(1000), time.time() - time.monotonic())
    figures = timings.figures()
    assert {figures[k]["count"] for k in figures} == {1000}
    wait = dict(map(tuple, figures["queue_wait_hist"]["buckets"]))  # ~0.02 s
    assert (wait[0.01], wait[0.05]) == (0, 1000)
    duration = dict(map(tuple, figures["duration_hist"]["buckets"]))  # 0.002 s
    assert (duration[0.001], duration[0.0025]) == (0, 1000)
    latency = dict(map(tuple, figures["latency_hist"]["buckets"]))  # ~2 s
    assert (latency[1.0], latency[2.5]) == (0, 1000)


def test_latency_counts_only_messages_with_a_numeric_timestamp() -> None:
    """No timestamp, or a boolean one, is left out of latency but not of wait or duration."""
    timings = Timings()
    offset = time.time() - time.monotonic()
    for stamp in (None, True, "now"):
        timings.observe_report(_report(10, stamp), offset)
    figures = timings.figures()
    assert figures["duration_hist"]["count"] == 30 and figures["latency_hist"]["count"] == 10


def test_outcomes_count_done_failed_and_dropped_but_not_halted_or_interrupted() -> None:
    """Halted and interrupted messages are delivered again, so they are not counted yet."""
    timings = Timings()
    fates = (Fate.DONE, Fate.FAILED, Fate.DROPPED, Fate.HALTED, Fate.INTERRUPTED)
    timings.observe_outcomes([Outcome(fate, 0.5, 0.2, 1.0) for fate in fates])
    figures = timings.figures()
    assert figures["queue_wait_hist"]["count"] == figures["latency_hist"]["count"] == 3
    assert abs(figures["duration_hist"]["sum"] - 0.6) < 1e-9


def test_histogram_count_equals_done_failed_and_dropped_by_the_consumer() -> None:
    """Through Stats: the duration histogram's count is done + failed + dropped, exactly."""
    stats = Stats()
    report = _report(300)
    report.outcomes += [Outcome(Fate.FAILED, 0, 0, None, 300), Outcome(Fate.DROPPED, 0, 0, None)]
    report.outcomes.append(Outcome(Fate.HALTED, 0, 0, None))
    stats.on_report("c", report, time.monotonic())
    figures = stats.consumer_figures("c", time.monotonic())
    counted = figures["done"] + figures["failed"] + figures["dropped"]["consumer"]
    assert figures["duration_hist"]["count"] == counted == 302
    assert figures["duration_s"]["count"] < 302  # the window only samples
