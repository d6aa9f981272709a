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
