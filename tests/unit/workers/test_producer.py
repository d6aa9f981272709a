"""hub.workers.producer and producer_life: the schedule (start to start, overruns), failures
that keep the schedule, deaths, stop, and the states and counters the reactor keeps; on a fake
clock and an inline thread."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from hub import Producer
from hub.config import ProducerConfig
from hub.plugins.producers import LoadedProducer
from hub.workers.producer import ProducerEvent, ProducerReport, ProducerThread
from hub.workers.producer_life import ProducerLife, ProducerState


class InlineThread:
    """A fake thread whose start() runs the target at once, on the test's thread."""

    def __init__(self, target: Any, name: str, daemon: bool) -> None:
        self.target, self.name = target, name

    def start(self) -> None:
        self.target()


class FakeTime:
    """A monotonic clock that only moves when a wait or a poll moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Scripted(Producer):
    """Polls ``config['polls']`` times (each taking ``config['takes']`` s), raising every
    third; then asks its thread to stop."""

    interval = 1.0

    def setup(self) -> None:
        self.starts: list[float] = []

    def poll(self) -> None:
        clock: FakeTime = self.config["clock"]
        self.starts.append(clock.now)
        clock.now += self.config.get("takes", 0.1)
        if len(self.starts) >= self.config["polls"]:
            self.config["thread"].stop()
        if len(self.starts) % 3 == 0:
            raise RuntimeError(f"poll {len(self.starts)} fails")


def _thread(
    polls: int, takes: float = 0.1, now: bool = True
) -> tuple[ProducerThread, Any, list[ProducerReport]]:
    clock = FakeTime()
    config: dict[str, Any] = {"clock": clock, "polls": polls, "takes": takes}
    instance = Scripted("p", config, hub=None)  # type: ignore[arg-type]
    loaded = LoadedProducer("p", instance, 1.0, 1.0, now, ProducerConfig(cls="x"))
    reports: list[ProducerReport] = []
    thread = ProducerThread(loaded, lambda name, r: reports.append(r), thread_factory=InlineThread,
                            clock=clock, wall=clock)  # fmt: skip
    config["thread"] = thread

    def wait(timeout: float) -> bool:  # the fake Event.wait: time passes, then the flag
        clock.now += timeout
        return thread.stopping.is_set()

    thread.wait = wait  # type: ignore[method-assign]
    return thread, instance, reports


def _gaps(starts: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(starts)]


def test_failing_every_third_poll_keeps_the_schedule() -> None:
    """Polls start exactly one interval apart although every third raises; each is counted."""
    thread, instance, reports = _thread(polls=9)
    thread.start()
    assert [
        round(b - a, 6) for a, b in zip(instance.starts[:-1], instance.starts[1:], strict=True)
    ] == [1.0] * 8
    polled = [r for r in reports if r.event is ProducerEvent.POLLED]
    assert len(polled) == 9
    assert sum(r.error is not None for r in polled) == 3
    assert reports[0].event is ProducerEvent.STARTED and reports[-1].event is ProducerEvent.STOPPED


def test_an_overrun_starts_the_next_poll_at_once_and_is_counted() -> None:
    """A 2.5 s poll on a 1 s interval: the next starts when it ends; the overrun is reported."""
    thread, instance, reports = _thread(polls=3, takes=2.5)
    thread.start()
    assert [
        round(b - a, 6) for a, b in zip(instance.starts[:-1], instance.starts[1:], strict=True)
    ] == [2.5, 2.5]
    assert all(r.overrun for r in reports if r.event is ProducerEvent.POLLED)


def test_now_false_waits_one_interval_before_the_first_poll() -> None:
    """``now = False`` (moksha's default) puts the first poll one interval after the start."""
    thread, instance, reports = _thread(polls=1, now=False)
    thread.start()
    assert instance.starts == [1001.0]
    assert reports[0].next_at == 1001.0


def test_a_base_exception_kills_the_thread_and_is_reported() -> None:
    """SystemExit out of poll() is a death (not a failed poll), reported with its error."""

    class Exits(Producer):
        interval = 1.0

        def poll(self) -> None:
            raise SystemExit(3)

    loaded = LoadedProducer("x", Exits("x", {}, None), 1.0, 1.0, True, ProducerConfig(cls="x"))  # type: ignore[arg-type]
    reports: list[ProducerReport] = []
    ProducerThread(loaded, lambda n, r: reports.append(r), thread_factory=InlineThread).start()
    assert [r.event for r in reports] == [
        ProducerEvent.STARTED, ProducerEvent.POLLING, ProducerEvent.DIED,
    ]  # fmt: skip
    assert isinstance(reports[-1].error, SystemExit)


def test_stop_ends_a_long_wait_at_once() -> None:
    """A real thread waiting for a 60 s interval ends within a second of stop()."""

    class Slow(Producer):
        interval = 60.0
        now = False

        def poll(self) -> None:
            raise AssertionError("never due")

    loaded = LoadedProducer("s", Slow("s", {}, None), 60.0, 60.0, False, ProducerConfig(cls="x"))  # type: ignore[arg-type]
    done = threading.Event()
    thread = ProducerThread(
        loaded, lambda n, r: done.set() if r.event is ProducerEvent.STOPPED else None
    )
    thread.start()
    assert thread.thread is not None and thread.thread.name == "producer:s"
    started = time.monotonic()
    thread.stop()
    assert done.wait(5) and time.monotonic() - started < 1.0


def _life(stuck_after_s: float = 5.0) -> ProducerLife:
    loaded = LoadedProducer("p", Producer("p", {}, None), 1.0, stuck_after_s, True,  # type: ignore[arg-type]
                            ProducerConfig(cls="x"))  # fmt: skip
    return ProducerLife(loaded, ProducerThread(loaded, lambda n, r: None))


def test_life_counts_polls_failures_and_overruns_and_never_resets() -> None:
    """Counters follow the reports and reading the snapshot twice gives the same figures."""
    life = _life()
    life.on_report(ProducerReport(ProducerEvent.STARTED, 10.0, next_at=10.0))
    for at, error, overrun in ((10.0, None, False), (11.0, ValueError("x"), True)):
        life.on_report(ProducerReport(ProducerEvent.POLLING, at))
        life.on_report(ProducerReport(ProducerEvent.POLLED, at + 0.2, at + 1, 0.2, overrun, error))
    first = life.snapshot(12.0)
    assert first == life.snapshot(12.0)
    assert (first["polls"], first["failures"], first["overruns"]) == (2, 1, 1)
    assert first["state"] == "idle" and first["last_run_at"] == 11.0
    assert first["last_duration_s"] == 0.2 and first["next_at"] == 12.0
    assert first["error"] == "ValueError('x')"


def test_a_poll_longer_than_stuck_after_is_stuck_then_dead_then_stopped() -> None:
    """polling -> stuck past stuck_after_s; a death is dead; teardown is stopped."""
    life = _life(stuck_after_s=5.0)
    life.on_report(ProducerReport(ProducerEvent.STARTED, 0.0))
    life.on_report(ProducerReport(ProducerEvent.POLLING, 100.0))
    assert life.state(104.0) is ProducerState.POLLING
    assert life.state(106.0) is ProducerState.STUCK and life.stuck_for(106.0) == 6.0
    assert life.snapshot(106.0)["stuck"] is True
    life.on_report(ProducerReport(ProducerEvent.DIED, 107.0, error=KeyboardInterrupt()))
    assert life.state(200.0) is ProducerState.DEAD and life.deaths == 1 and not life.alive
    life.on_report(ProducerReport(ProducerEvent.STOPPED, 201.0))
    assert life.state(201.0) is ProducerState.STOPPED
