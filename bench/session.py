"""One timed run, and the session that holds a ``python -m bench``'s settings and baseline.

Runs in the bench process's main thread. Every run starts a fresh publisher process and a fresh
receiver (a hub subprocess or a baseline process), waits until a warm-up message has reached
every counting receiver (no fixed sleeps), then times ``count`` messages. A receiver that does
not get every message, in order, raises :class:`bench.collector.LossError`. The scenarios built
on it are in :mod:`bench.scenarios` (and the AMQP ones, whose broker the session holds, in
:mod:`bench.amqp_scenarios`).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from bench.baseline import Baseline
from bench.broker import Broker
from bench.collector import Collector, Done
from bench.floor import floor_main, floor_names
from bench.hubproc import COUNTING, STALLED, Hub, consumer_entry, cpu_seconds
from bench.publisher import Publisher

log = logging.getLogger(__name__)

QUEUE_SIZE = 10_000  # the default: beyond it a consumer's backlog is read back from disk
WARM_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class AmqpSettings:
    """How big the AMQP runs are (`bench.amqp_scenarios`)."""

    messages: int = 50_000  # per 1-consumer throughput run, published before it starts
    prefetch: int = 1_000  # the hub's and the pika loops' basic.qos
    hubs: tuple[int, ...] = (1, 2, 4)  # hubs sharing one consumer's queue
    shared_messages: int = 6_000  # per scale-out throughput run
    shared_prefetch: int = 10  # fedora-messaging's default: the work spreads over the hubs
    work_ms: float = 2.0  # each shared message's cost (a sleep)
    load: int = 250  # messages a second in the scale-out latency runs: half of 1 hub's capacity
    load_messages: int = 2_500  # per scale-out latency run

    @classmethod
    def quick(cls) -> AmqpSettings:
        """A few seconds a run."""
        return cls(messages=5_000, shared_messages=800, load_messages=300)


@dataclass(frozen=True)
class ArchiveSettings:
    """How big the archive runs are (`bench.archive_scenarios`)."""

    messages: int = 20_000  # per hub run
    datanommer_messages: int = 3_000  # per datanommer run: a commit per message is slow

    @classmethod
    def quick(cls) -> ArchiveSettings:
        """A few seconds a run."""
        return cls(messages=5_000, datanommer_messages=1_000)


@dataclass(frozen=True)
class Settings:
    """How big each run is; ``quick()`` for a short check."""

    messages: int = 200_000
    fanout: int = 10
    latency_messages: dict[int, int] = field(default_factory=lambda: {1000: 10_000, 10000: 50_000})
    backlog: int = 1_000_000
    idle_timeout: float = 15.0
    repeat: int = 1  # throughput runs: best of this many (other engineers share the machine)
    profile: Path | None = None  # a directory: a py-spy profile of every hub run
    hub_src: Path | None = None  # run the ``hub`` package found in this directory instead
    amqp: AmqpSettings = field(default_factory=AmqpSettings)
    amqp_url: str | None = None  # None: a private RabbitMQ node, started on first use
    archive: ArchiveSettings = field(default_factory=ArchiveSettings)

    @classmethod
    def quick(cls, messages: int | None = None) -> Settings:
        """About a minute in all."""
        return cls(
            messages=messages or 20_000,
            latency_messages={1000: 2_000, 10000: 10_000},
            backlog=100_000,
            amqp=AmqpSettings.quick(),
            archive=ArchiveSettings.quick(),
        )


class Receiver(Protocol):
    """A hub subprocess or a baseline process, as a run sees it."""

    names: list[str]

    @property
    def pid(self) -> int: ...
    def start(self, endpoint: str) -> None: ...
    def alive(self) -> bool: ...
    def stop(self) -> None: ...


@dataclass
class Run:
    """The outcome of one timed run."""

    done: dict[str, Done]
    send_rate: float
    cpu_s: float  # the receiver process's CPU time during the run (all threads)
    peak_rss: int = 0
    ready_rss: int = 0

    @property
    def rate(self) -> float:
        """Messages a second into the slowest receiver (first send to its last consume)."""
        return min(d.rate for d in self.done.values())

    @property
    def cpu_per_message(self) -> float:
        """Receiver CPU seconds per message: robust to other load on a shared machine."""
        return self.cpu_s / next(iter(self.done.values())).count


ReceiverFactory = Callable[[Path, str], Receiver]


def measure(make: ReceiverFactory, count: int, rate: float, idle_timeout: float) -> Run:
    """Publish ``count`` messages (paced to ``rate``/s if non-zero) into a fresh receiver."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        collector = Collector(Path(tmp))
        receiver = make(Path(tmp), collector.endpoint)
        publisher = Publisher(count, rate)
        try:
            publisher.start()
            receiver.start(publisher.endpoint)
            collector.wait_warm(receiver.names, receiver.alive, WARM_TIMEOUT_S)
            cpu_before = cpu_seconds(receiver.pid)
            publisher.go()
            done = collector.wait_done(receiver.names, count, receiver.alive, idle_timeout)
            cpu = cpu_seconds(receiver.pid) - cpu_before
            publisher.wait_sent(30)
            run = Run(done, publisher.send_rate, cpu)
            if isinstance(receiver, Hub) and receiver.rss is not None:
                run.peak_rss, run.ready_rss = receiver.rss.peak, receiver.ready_rss
            return run
        finally:
            receiver.stop()
            publisher.stop()
            collector.close()


class Session:
    """One ``python -m bench``: its settings, the baseline throughput (measured once) and the
    AMQP broker (started on first use; `close` stops it)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._baseline: Run | None = None
        self.broker = Broker(settings.amqp_url)

    def close(self) -> None:
        """Stop what the session started (the private RabbitMQ node, if any)."""
        self.broker.close()

    def run(self, make: ReceiverFactory, count: int, rate: float = 0.0) -> Run:
        """One timed run (the best of ``repeat`` when unpaced)."""
        tries = 1 if rate else self.settings.repeat
        runs = [measure(make, count, rate, self.settings.idle_timeout) for _ in range(tries)]
        return max(runs, key=lambda r: r.rate)

    def interleaved(self, makers: list[ReceiverFactory], count: int) -> list[Run]:
        """The best of ``repeat`` unpaced runs of each receiver, the receivers taking turns in
        every round, so a load on the host that drifts during the session hits them alike."""
        timeout = self.settings.idle_timeout
        rounds = [
            [measure(make, count, 0.0, timeout) for make in makers]
            for _ in range(self.settings.repeat)
        ]
        return [max((r[i] for r in rounds), key=lambda run: run.rate) for i in range(len(makers))]

    def paced(self, makers: list[ReceiverFactory], count: int, rate: float) -> list[list[Run]]:
        """Every run of ``repeat`` rounds at ``rate`` messages a second, the receivers taking
        turns in each round; per receiver, its runs."""
        timeout = self.settings.idle_timeout
        rounds = [
            [measure(make, count, rate, timeout) for make in makers]
            for _ in range(self.settings.repeat)
        ]
        return [[r[i] for r in rounds] for i in range(len(makers))]

    def baseline(self) -> Run:
        """The plain loop's throughput run (the first caller pays for it)."""
        if self._baseline is None:
            n = self.settings.messages
            self._baseline = self.run(baseline(n), n)
        return self._baseline

    def keep_baseline(self, run: Run) -> None:
        """Use ``run`` as the baseline of the scenarios that follow."""
        self._baseline = run

    def hub(
        self, counting: int, count: int, latency: bool = False, stalled: bool = False
    ) -> ReceiverFactory:
        """A hub with ``counting`` counting consumers (and a stalled one beside them if asked)."""
        s = self.settings

        def make(tmp: Path, report_to: str) -> Hub:
            consumers = counting_consumers(counting, count, report_to, latency)
            if stalled:
                config = {"release": str(tmp / Hub.RELEASE)}
                consumers["stalled"] = consumer_entry(STALLED, config, QUEUE_SIZE)
            label = f"{counting}x{count}{'-stalled' if stalled else ''}"
            profile = s.profile / f"{label}.txt" if s.profile else None
            return Hub(tmp, consumers, profile=profile, hub_src=s.hub_src)

        return make


def baseline(count: int, latency: bool = False) -> ReceiverFactory:
    """A factory for the plain SUB loop."""
    return lambda _tmp, report_to: Baseline(count, report_to, latency)


def design_floor(count: int, latency: bool = False, consumers: int = 1) -> ReceiverFactory:
    """A factory for the reactor + a hand-off per consumer, nothing else (`bench.floor`)."""
    main = partial(floor_main, consumers=consumers)
    names = floor_names(consumers)
    return lambda _tmp, report_to: Baseline(count, report_to, latency, main, names)


def counting_consumers(
    counting: int, count: int, report_to: str, latency: bool
) -> dict[str, dict[str, Any]]:
    """Config blocks of ``counting`` CountingConsumers: "fast", or "fast0".. "fast9"."""
    consumers = {}
    for i in range(counting):
        name = "fast" if counting == 1 else f"fast{i}"
        config = {"name": name, "expect": count, "report": report_to, "latency": latency}
        consumers[name] = consumer_entry(COUNTING, config, QUEUE_SIZE)
    return consumers
