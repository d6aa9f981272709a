"""The measured runs: throughput, latency, isolation, memory, each against the baseline.

Runs in the bench process's main thread. Every run starts a fresh publisher process and a fresh
receiver (a hub subprocess or a baseline process), waits until a warm-up message has reached
every counting receiver (no fixed sleeps), then times ``count`` messages. A receiver that does
not get every message, in order, raises :class:`bench.collector.LossError`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bench import report
from bench.baseline import Baseline
from bench.collector import Collector, Done
from bench.hubproc import COUNTING, STALLED, Hub, consumer_entry, cpu_seconds
from bench.publisher import Publisher
from bench.report import Row

log = logging.getLogger(__name__)

QUEUE_SIZE = 10_000  # the default: beyond it a consumer's backlog is read back from disk
WARM_TIMEOUT_S = 60.0


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

    @classmethod
    def quick(cls, messages: int | None = None) -> Settings:
        """About a minute in all."""
        return cls(
            messages=messages or 20_000,
            latency_messages={1000: 2_000, 10000: 10_000},
            backlog=100_000,
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
    """One ``python -m bench``: its settings, and the baseline throughput, measured once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._baseline: Run | None = None

    def run(self, make: ReceiverFactory, count: int, rate: float = 0.0) -> Run:
        """One timed run (the best of ``repeat`` when unpaced)."""
        tries = 1 if rate else self.settings.repeat
        runs = [measure(make, count, rate, self.settings.idle_timeout) for _ in range(tries)]
        return max(runs, key=lambda r: r.rate)

    def baseline(self) -> Run:
        """The plain loop's throughput run (the first caller pays for it)."""
        if self._baseline is None:
            n = self.settings.messages
            self._baseline = self.run(baseline(n), n)
        return self._baseline

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


def throughput(session: Session) -> list[Row]:
    """Messages/s into 1 idle consumer, deliveries/s into ``fanout`` consumers, vs the loop."""
    s, base = session.settings, session.baseline()
    n = s.messages
    one = session.run(session.hub(1, n), n)
    many = session.run(session.hub(s.fanout, n), n)
    b = report.rate(base.rate)
    deliveries = many.rate * s.fanout
    return [
        Row("publisher send rate (upper bound)", report.rate(base.send_rate)),
        Row(
            "1 consumer",
            report.rate(one.rate),
            b,
            one.rate / base.rate,
            ">= 1.0x",
            one.rate >= base.rate,
        ),
        Row(
            f"{s.fanout} consumers, messages",
            report.rate(many.rate),
            b,
            many.rate / base.rate,
            ">= 0.5x",
            many.rate >= 0.5 * base.rate,
        ),
        Row(
            f"{s.fanout} consumers, deliveries",
            report.rate(deliveries, "deliveries/s"),
            b,
            deliveries / base.rate,
            ">= 5x",
            deliveries >= 5 * base.rate,
        ),
        cpu_row("1 consumer", one, base),
        cpu_row(f"{s.fanout} consumers", many, base),
    ]


def cpu_row(label: str, run: Run, base: Run) -> Row:
    """CPU per message of a hub run against the baseline's (lower is better).

    CPU time is counted in clock ticks (10 ms): tiny runs may show 0.
    """
    hub_cpu, base_cpu = run.cpu_per_message, base.cpu_per_message
    return Row(
        f"{label}: CPU per message",
        report.micros(hub_cpu * 1e9),
        report.micros(base_cpu * 1e9),
        hub_cpu / base_cpu if base_cpu else None,
    )


def latency(session: Session) -> list[Row]:
    """send -> consume() start at each fixed offered load, hub vs loop."""
    s = session.settings
    rows: list[Row] = []
    for load, count in sorted(s.latency_messages.items()):
        base = session.run(baseline(count, latency=True), count, load)
        one = session.run(session.hub(1, count, latency=True), count, load)
        rows += _latency_rows(load, one.done["fast"], base.done["baseline"])
        rows.append(
            Row(
                f"{load:,}/s: publisher achieved",
                report.rate(one.send_rate),
                report.rate(base.send_rate),
            )
        )
    return rows


def _latency_rows(load: int, hub_done: Done, base_done: Done) -> list[Row]:
    hub_sorted, base_sorted = sorted(hub_done.samples), sorted(base_done.samples)
    rows = []
    for label, fraction in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)):
        h = report.percentile(hub_sorted, fraction)
        b = report.percentile(base_sorted, fraction)
        target, met = "", None
        if load == 1000 and label == "p99":
            target, met = "<= 1.2x", h <= 1.2 * b
        rows.append(
            Row(
                f"{load:,}/s: {label}",
                report.micros(h),
                report.micros(b),
                h / max(b, 1),
                target,
                met,
            )
        )
    return rows


def isolation(session: Session) -> list[Row]:
    """The fast consumer's throughput alone and with a stalled consumer beside it."""
    s, base = session.settings, session.baseline()
    n, b = s.messages, report.rate(base.rate)
    alone = session.run(session.hub(1, n), n)
    beside = session.run(session.hub(1, n, stalled=True), n)
    kept = beside.rate / alone.rate
    return [
        Row("fast consumer alone", report.rate(alone.rate), b, alone.rate / base.rate),
        Row(
            "fast consumer beside a stalled one",
            report.rate(beside.rate),
            b,
            beside.rate / base.rate,
        ),
        Row("beside / alone", f"{kept:.2f}x", "", kept, ">= 0.90x", kept >= 0.9),
        cpu_row("alone", alone, base),
        cpu_row("beside a stalled one", beside, base),
    ]


PACED_RATE = 20_000  # below the hub's ingest rate: ZeroMQ's receive queue stays empty


def memory(session: Session, budget_mb: float = 200.0) -> list[Row]:
    """Peak RSS of the hub while a stalled consumer's backlog grows to ``backlog`` messages.

    Twice: as fast as the publisher can send (the hub's SUB socket then also holds up to
    ``zmq.rcvhwm`` messages) and paced at ``PACED_RATE`` (only the hub's own memory).
    """
    s, base = session.settings, session.baseline()
    n = s.backlog
    flood = measure(session.hub(1, n, stalled=True), n, 0, s.idle_timeout)
    paced = measure(session.hub(1, n, stalled=True), n, PACED_RATE, s.idle_timeout)
    budget = f"<= {budget_mb:.0f} MB"
    return [
        Row("RSS when ready", report.megabytes(flood.ready_rss)),
        Row(
            f"peak RSS, {n:,}-message backlog, unpaced",
            report.megabytes(flood.peak_rss),
            "",
            None,
            budget,
            flood.peak_rss <= budget_mb * report.MB,
        ),
        Row(
            f"peak RSS, {n:,}-message backlog, {PACED_RATE:,}/s",
            report.megabytes(paced.peak_rss),
            "",
            None,
            budget,
            paced.peak_rss <= budget_mb * report.MB,
        ),
        Row(
            "ingest meanwhile, unpaced (fast consumer)",
            report.rate(flood.rate),
            report.rate(base.rate),
            flood.rate / base.rate,
        ),
    ]


SCENARIOS: dict[str, Callable[[Session], list[Row]]] = {
    "throughput": throughput,
    "latency": latency,
    "isolation": isolation,
    "memory": memory,
}
