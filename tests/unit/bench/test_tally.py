"""The bench's counting and loss detection (``bench.tally`` -> ``bench.collector``), no hub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.collector import Collector, LossError
from bench.tally import Tally
from bench.wire import WARMUP_SEQ, make_templates


def _tally_into(collector: Collector, seqs: list[int], expect: int) -> None:
    tally = Tally("t", expect, collector.endpoint, latency=True)
    tally.observe(WARMUP_SEQ, 0)
    for seq in seqs:
        tally.observe(seq, 0)
    tally.close()


def test_complete_run_is_reported_done(tmp_path: Path) -> None:
    """Every sequence number in order: done, with one latency sample per message."""
    collector = Collector(tmp_path)
    try:
        _tally_into(collector, list(range(5)), expect=5)
        collector.wait_warm(["t"], lambda: True, timeout=5)
        done = collector.wait_done(["t"], 5, lambda: True, idle_timeout=5)["t"]
    finally:
        collector.close()
    assert (done.count, done.missing, len(done.samples)) == (5, 0, 5)


def test_a_lost_message_fails_loudly(tmp_path: Path) -> None:
    """A gap in the sequence numbers raises LossError naming the receiver and the count."""
    collector = Collector(tmp_path)
    try:
        _tally_into(collector, [0, 1, 3, 4], expect=5)
        with pytest.raises(LossError, match=r"t got 4 of 5 messages \(1 missing"):
            collector.wait_done(["t"], 5, lambda: True, idle_timeout=5)
    finally:
        collector.close()


def test_a_lost_last_message_fails_after_the_idle_timeout(tmp_path: Path) -> None:
    """When the last message never comes, wait_done gives up after the idle timeout."""
    collector = Collector(tmp_path)
    try:
        _tally_into(collector, [0, 1, 2], expect=5)
        with pytest.raises(LossError, match="no news"):
            collector.wait_done(["t"], 5, lambda: True, idle_timeout=0.5)
    finally:
        collector.close()


def test_templates_stamp_every_sample() -> None:
    """Every bundled sample becomes valid JSON carrying its stamp, a unique msg_id and its topic."""
    for template in make_templates():
        topic, body = template.frames(7, 123)
        envelope = json.loads(body)
        assert envelope["msg"]["bench"] == [7, 123]
        assert envelope["msg_id"] == "bench-7"
        assert envelope["topic"].encode() == topic


class _Events:
    """Stands in for the report socket: records each event and the count it carried."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, int, int]] = []

    def send(self, header: dict[str, object], payload: bytes | None = None) -> None:
        self.sent.append(
            (str(header["event"]), int(header["count"]), int(header["missing"]),  # type: ignore[call-overload]
             int(header["disorder"]))  # type: ignore[call-overload]
        )  # fmt: skip

    def close(self) -> None:
        pass


def _fast_tally(seqs: list[int], expect: int, progress_every: int) -> tuple[Tally, _Events]:
    tally = Tally("t", expect, "inproc://unused", latency=False, progress_every=progress_every)
    events = tally.reporter = _Events()  # type: ignore[assignment]
    tally.observe(WARMUP_SEQ, 0)
    for seq in seqs:
        tally.observe(seq, 100 + seq)
    return tally, events


def test_the_fast_path_still_reports_every_progress_point_and_the_end() -> None:
    """Without latency samples, in-order messages skip the full path but no event is missed."""
    tally, events = _fast_tally(list(range(25)), expect=25, progress_every=10)
    assert events.sent == [
        ("warm", 0, 0, 0), ("progress", 10, 0, 0), ("progress", 20, 0, 0), ("done", 25, 0, 0),
    ]  # fmt: skip
    assert (tally.count, tally.first_sent_ns) == (25, 100)


def test_the_fast_path_counts_gaps_and_repeats() -> None:
    """A gap and a repeat leave the fast path, are counted, and later events still come due."""
    seqs = [0, 1, 2, 5, 6, 6, 7, 8, 9, 10, 11]
    tally, events = _fast_tally(seqs, expect=12, progress_every=5)
    assert (tally.count, tally.missing, tally.disorder) == (11, 2, 1)
    assert events.sent == [
        ("warm", 0, 0, 0), ("progress", 5, 2, 0), ("progress", 10, 2, 1), ("done", 11, 2, 1),
    ]  # fmt: skip
