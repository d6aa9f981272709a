"""hub.lifecycle.producers: loading, start, reports to the reactor, supervised restarts of a
dead thread, the stuck log, /status and /ready figures, stop; on a fake reactor clock."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from twisted.internet import defer, task

from hub import Producer
from hub.config import ProducerConfig
from hub.errors import PluginLoadError
from hub.lifecycle.producers import Producers
from hub.workers.producer import ProducerEvent, ProducerReport


class Ticks(Producer):
    """Publishes one message per poll."""

    interval = 0.5

    def poll(self) -> None:
        self.hub.publish("org.test.tick", {"n": 1})


class FakeReactor(task.Clock):
    """A Clock whose callFromThread runs the call at once (the thread is the test's)."""

    def callFromThread(self, call: Any, *args: Any) -> None:
        call(*args)


class FakeHub:
    def __init__(self) -> None:
        self.published: list[tuple[str, Any]] = []

    def publish(self, topic: str, body: Any) -> None:
        self.published.append((topic, body))


class NoThread:
    """A thread that never runs: the test sends the reports itself."""

    def __init__(self, target: Any, name: str, daemon: bool) -> None:
        self.name = name

    def start(self) -> None:
        pass


def _producers(**configs: ProducerConfig) -> tuple[Producers, FakeReactor]:
    reactor = FakeReactor()
    clock = reactor.seconds
    producers = Producers(reactor, FakeHub(), thread_factory=NoThread, wall=clock)
    producers.load(configs, {})
    return producers, reactor


TICKS = ProducerConfig(cls=f"{__name__}:Ticks")


def test_load_takes_the_classes_interval_unless_configured() -> None:
    """interval comes from the class, interval_s overrides it; stuck_after_s defaults to it."""
    producers, _ = _producers(a=TICKS, b=ProducerConfig(cls=TICKS.cls, interval_s=2.0,
                                                        stuck_after_s=30.0))  # fmt: skip
    a, b = producers.lives["a"].loaded, producers.lives["b"].loaded
    assert (a.interval, a.stuck_after_s, b.interval, b.stuck_after_s) == (0.5, 0.5, 2.0, 30.0)


def test_load_refuses_a_class_without_poll_or_interval_naming_the_producer() -> None:
    """No poll(), no interval, not a producer: one PluginLoadError naming the producer."""
    with pytest.raises(PluginLoadError, match=r"producer 'x': .*no poll"):
        _producers(x=ProducerConfig(cls="hub:Producer"))
    with pytest.raises(PluginLoadError, match=r"producer 'y': interval is 0\.0"):
        _producers(y=ProducerConfig(cls=f"{__name__}:NoInterval"))
    with pytest.raises(PluginLoadError, match=r"producer 'z': .*neither a hub\.Producer"):
        _producers(z=ProducerConfig(cls=f"{__name__}:FakeHub"))
    with pytest.raises(PluginLoadError, match="producer 'w': class 'nope' is neither"):
        _producers(w=ProducerConfig(cls="nope"))


class NoInterval(Producer):
    def poll(self) -> None:
        pass


def test_a_dead_thread_is_restarted_with_backoff_and_counted() -> None:
    """DIED: dead at once, a new thread after the supervisor's delay, restarts counted."""
    producers, reactor = _producers(a=TICKS)
    producers.start()
    life = producers.lives["a"]
    life.thread.set_up = True
    starts: list[str] = []
    life.thread.start = lambda: starts.append("start")  # type: ignore[method-assign]
    producers._on_report("a", ProducerReport(ProducerEvent.DIED, 1.0, error=SystemExit(1)))
    assert producers.snapshot()["a"]["state"] == "dead"
    reactor.advance(0.5)  # BASE_DELAY_S
    assert starts == ["start"]
    doc = producers.snapshot()["a"]
    assert (doc["state"], doc["deaths"], doc["restarts"]) == ("idle", 1, 1)


def test_a_stuck_poll_is_logged_once_and_makes_ready_fail(caplog: pytest.LogCaptureFixture) -> None:
    """A poll over stuck_after_s: one error line naming the producer, a /ready reason."""
    producers, reactor = _producers(a=TICKS)
    producers.start()
    producers._on_report("a", ProducerReport(ProducerEvent.POLLING, reactor.seconds()))
    reactor.advance(0.4)
    assert producers.not_ready() == []
    with caplog.at_level(logging.ERROR):
        reactor.advance(1.0)
        reactor.advance(1.0)
    lines = [r.getMessage() for r in caplog.records if "poll() has run" in r.getMessage()]
    assert lines == ["producer a: poll() has run for 1 s, over its stuck_after_s (0.5 s)"]
    assert producers.not_ready() == ["producer a stuck in poll() for 2 s"]
    assert producers.snapshot()["a"]["stuck"] is True


def test_stop_waits_for_the_poll_in_hand_then_for_teardown() -> None:
    """stop() asks every thread to stop and fires once each reported STOPPED."""
    producers, _ = _producers(a=TICKS)
    producers.start()
    done = defer.ensureDeferred(producers.stop(10.0))
    assert producers.lives["a"].thread.stopping.is_set() and not done.called
    producers._on_report("a", ProducerReport(ProducerEvent.STOPPED, 1.0))
    assert done.called
    assert producers.snapshot()["a"]["state"] == "stopped"


def test_stop_leaves_a_poll_behind_after_the_deadline(caplog: pytest.LogCaptureFixture) -> None:
    """A thread that never stops: stop() returns at the deadline, saying so."""
    producers, reactor = _producers(a=TICKS)
    producers.start()
    done = defer.ensureDeferred(producers.stop(3.0))
    with caplog.at_level(logging.WARNING):
        reactor.advance(3.0)
    assert done.called
    assert "producer a: poll() still running 3 s after the stop" in caplog.text


def test_a_real_thread_publishes_through_the_hub() -> None:
    """With a real thread, poll() runs on producer:<name> and its message reaches hub.publish."""
    reactor = FakeReactor()
    hub = FakeHub()
    producers = Producers(reactor, hub)
    producers.load({"a": TICKS}, {})
    producers.start()
    thread = producers.lives["a"].thread
    deadline = time.monotonic() + 10
    while not hub.published and time.monotonic() < deadline:
        time.sleep(0.01)
    thread.stop()
    assert thread.thread is not None
    thread.thread.join(5)
    assert hub.published[0] == ("org.test.tick", {"n": 1})
    assert producers.lives["a"].polls >= 1 and producers.lives["a"].recorded.value == "stopped"
