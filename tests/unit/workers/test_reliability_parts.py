"""Unit tests of the supervisor, gap tracker, retry schedule and dead-letter store."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from twisted.internet.task import Clock

from hub.config import RetryConfig
from hub.message import Message
from hub.observe.stats import Stats
from hub.storage.deadletters import DeadLetterStore
from hub.transports.zeromq.gaps import GapTracker
from hub.workers.delivery import DeadLetter
from hub.workers.retry import backoff, delay_after, worst_case_s
from hub.workers.supervisor import Supervisor


def test_dead_threads_restart_with_growing_backoff_and_a_crash_loop_is_flagged() -> None:
    """Deaths 1..4 wait 0.5, 1, 2, 4 s; the third flags a crash loop that clears later."""
    clock, restarted = Clock(), []
    sup = Supervisor(clock, lambda name, index: restarted.append((name, index)))
    delays = []
    for _ in range(4):
        delays.append(sup.on_death("c", 0, SystemExit()))
        clock.advance(delays[-1] - 0.01)
        assert len(restarted) == len(delays) - 1, "no restart before the backoff"
        clock.advance(0.01)
    assert delays == [0.5, 1.0, 2.0, 4.0] and restarted == [("c", 0)] * 4
    assert sup.snapshot("c")["crash_loop"] is True
    assert sup.snapshot("c")["worker_restarts"] == 4
    clock.advance(400)
    sup.tick()
    assert sup.snapshot("c")["crash_loop"] is False


def test_restart_now_runs_pending_restarts_at_once() -> None:
    """On shutdown a pending restart runs immediately instead of waiting for its timer."""
    clock, restarted = Clock(), []
    sup = Supervisor(clock, lambda name, index: restarted.append((name, index)))
    sup.on_death("c", 1, None)
    sup.restart_now("c")
    assert restarted == [("c", 1)] and not clock.getDelayedCalls()


def msg(i: int | None, user: str = "u", topic: str = "org.x.prod.app.y") -> Message:
    return Message(topic, {"msg": 1, "i": i, "username": user, "hostname": "h"})


def test_gaps_are_counted_per_identity_and_restarts_reset() -> None:
    """Skipped i values count as lost per publisher; a lower i is a restart, not a gap."""
    stats = Stats()
    gaps = GapTracker(stats)
    gaps.observe([msg(1), msg(2), msg(5), msg(1, user="v"), msg(2, user="v")])
    assert stats.hub["upstream_gaps"] == 2
    gaps.observe([msg(1), msg(2), msg(None), msg(4, topic="org.x.prod.other.z")])
    assert stats.hub["upstream_gaps"] == 2 and stats.hub["upstream_restarts"] == 1


def test_the_gap_tracker_forgets_its_oldest_identity_beyond_its_limit() -> None:
    """At most ``limit`` identities are kept; the oldest goes first and starts afresh."""
    stats = Stats()
    gaps = GapTracker(stats, limit=2)
    gaps.observe([msg(1, user="a"), msg(1, user="b"), msg(1, user="c")])
    assert [key[0] for key in gaps.last] == ["b", "c"]
    gaps.observe([msg(9, user="a"), msg(2, user="c")])  # "a" was forgotten: no gap
    assert stats.hub["upstream_gaps"] == 0 and [key[0] for key in gaps.last] == ["c", "a"]


def test_gaps_are_not_counted_for_partly_subscribed_publishers() -> None:
    """A hub that subscribes to part of an app's topics skips its numbers by design: no gap."""
    stats = Stats()
    subscribed = {"org.x.prod.app.y", "org.x.prod.other."}
    gaps = GapTracker(stats, lambda: subscribed)
    gaps.observe([msg(1), msg(5)])  # org.x.prod.app: only its .y topics are subscribed
    gaps.observe([msg(1, topic="org.x.prod.other.z"), msg(4, topic="org.x.prod.other.z")])
    assert stats.hub["upstream_gaps"] == 2  # the fully subscribed app only
    subscribed = {""}  # a reload subscribed to everything: now app is tracked too
    gaps.observe([msg(6), msg(9)])
    assert stats.hub["upstream_gaps"] == 4


def test_backoff_doubles_caps_and_jitters_within_bounds() -> None:
    """Attempt n waits initial*2**(n-1) capped at max, +-jitter; Retry(delay) wins."""
    config = RetryConfig(max_attempts=5, initial_delay_s=1, max_delay_s=5, jitter=0.2)
    assert [backoff(config, n, lambda: 0.5) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    assert backoff(config, 1, lambda: 0.0) == pytest.approx(0.8)
    assert backoff(config, 1, lambda: 1.0) == pytest.approx(1.2)
    assert delay_after(config, 3, 0.25) == 0.25
    assert worst_case_s(config) == pytest.approx((1 + 2 + 4 + 5) * 1.2)


def test_dead_letter_store_round_trip_replay_marks_and_purge(tmp_path: Path) -> None:
    """Rows are stored with error and traceback; replay marks; purge deletes by consumer."""
    store = DeadLetterStore(tmp_path / "dl.sqlite")
    store.open()
    store.add(DeadLetter("a", "t.1", "m1", b'{"msg": 1}', "ValueError()", "Traceback...", 3))
    store.add(DeadLetter("b", "t.2", None, b'{"msg": 2}', "Retry", "", 5))
    assert store.counts() == {"a": 1, "b": 1}
    first = store.rows("a")[0]
    assert first["msg_id"] == "m1" and store.get(first["id"])["traceback"] == "Traceback..."
    assert store.mark_replay("a", None) == 1
    assert [row[1] for row in store.replay_requested()] == ["a"]
    assert store.purge(None, None) == 2 and store.counts() == {}
    store.close()


def test_gap_log_lines_are_rate_limited_but_every_gap_is_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """30 gaps in a burst: all counted, at most 10 lines logged."""
    stats = Stats()
    gaps = GapTracker(stats)
    with caplog.at_level(logging.INFO, logger="hub.transports.zeromq.gaps"):
        gaps.observe([msg(i) for i in range(1, 62, 2)])
    assert stats.hub["upstream_gaps"] == 30
    assert sum("upstream gap" in r.getMessage() for r in caplog.records) == 10
