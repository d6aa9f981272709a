"""hub.plugins.producers and moksha_producer: a moksha PollingProducer is built with moksha's own
loop held out of Twisted's thread pool, its frequency and ``now`` become the schedule, and its
poll runs through moksha's ``_poll``; with the real moksha.hub."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import moksha.hub.api.producer
import moksha.hub.reactor
import pytest

from hub.config import ProducerConfig
from hub.errors import PluginLoadError
from hub.plugins.kinds import Kind
from hub.plugins.moksha_producer import MokshaProducer, seconds
from hub.plugins.producers import load_producer


class Hub:
    def __init__(self) -> None:
        self.published: list[tuple[str, Any]] = []

    def publish(self, topic: str, body: Any) -> None:
        self.published.append((topic, body))


class Poller(moksha.hub.api.producer.PollingProducer):  # type: ignore[misc]
    frequency = timedelta(seconds=1, milliseconds=500)

    def poll(self) -> None:
        self.send_message("org.test.polled", {"key": self.hub.config.get("hubtest.key")})


class Asks(moksha.hub.api.producer.PollingProducer):  # type: ignore[misc]
    """Asks the reactor's pool for some other work in __init__: that call must go through."""

    frequency = 2

    def __init__(self, hub: Any) -> None:
        moksha.hub.reactor.reactor.callInThread(self.other)
        super().__init__(hub)

    def other(self) -> None:
        pass

    def poll(self) -> None:
        pass


class NoFrequency(moksha.hub.api.producer.PollingProducer):  # type: ignore[misc]
    def poll(self) -> None:
        pass


def _load(cls: type, **config: Any) -> Any:
    hub = Hub()
    spec = ProducerConfig(cls=f"{__name__}:{cls.__name__}", **config)
    return load_producer(cls.__name__, spec, hub, {"hubtest.key": "v"}), hub


def test_moksha_polling_producer_runs_on_the_hubs_schedule_not_twisteds_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Building it calls callInThread(_work): held, never run; the reactor is as it was."""
    pool: list[Any] = []
    reactor = moksha.hub.reactor.reactor
    monkeypatch.setattr(type(reactor), "callInThread", lambda self, f, *a, **k: pool.append(f))
    loaded, hub = _load(Poller)
    assert pool == [] and "callInThread" not in vars(reactor)
    assert loaded.kind is Kind.MOKSHA and loaded.interval == 1.5 and loaded.now is False
    assert isinstance(loaded.instance, MokshaProducer) and loaded.instance.figures() == {
        "moksha_loops_held": 1
    }
    loaded.instance.poll()
    assert hub.published == [("org.test.polled", {"key": "v"})]
    assert loaded.instance.target._last_ran is not None  # through moksha's own _poll()
    loaded.instance.teardown()
    assert loaded.instance.target.die is True


def test_other_calls_to_callinthread_while_building_go_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the instance's own _work is held; anything else reaches the real pool."""
    pool: list[Any] = []
    monkeypatch.setattr(type(moksha.hub.reactor.reactor), "callInThread",
                        lambda self, f, *a, **k: pool.append(f.__name__))  # fmt: skip
    loaded, _ = _load(Asks)
    assert pool == ["other"] and loaded.interval == 2.0


def test_a_moksha_producer_without_frequency_needs_interval_s() -> None:
    """moksha's busy loop (frequency None) is refused, naming interval_s; with it, it runs."""
    with pytest.raises(
        PluginLoadError, match=r"producer 'NoFrequency': interval is 0\.0.*interval_s"
    ):
        _load(NoFrequency)
    loaded, _ = _load(NoFrequency, interval_s=3.0)
    assert loaded.interval == 3.0 and loaded.stuck_after_s == 3.0


def test_frequency_converts_as_moksha_converts_it() -> None:
    """A timedelta (days too) or a number of seconds; anything else is no frequency."""
    assert seconds(timedelta(days=1, seconds=2, microseconds=500_000)) == 86402.5
    assert seconds(5) == 5.0 and seconds(None) == 0.0 and seconds(True) == 0.0
