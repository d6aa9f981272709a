"""The measured runs: throughput, latency, isolation, memory, each against the baseline (and
the AMQP ones of `bench.amqp_scenarios` and the archive one of `bench.archive_scenarios`,
registered here, not run by default: they need a broker, or PostgreSQL and datanommer).

Runs in the bench process's main thread, on the runs and session of :mod:`bench.session`.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

from bench import report
from bench.amqp_scenarios import amqp, amqp_scale
from bench.archive_scenarios import archive
from bench.report import Row
from bench.session import Run, Session, baseline, design_floor, measure


def throughput(session: Session) -> list[Row]:
    """Messages/s into 1 idle consumer, deliveries/s into ``fanout`` consumers, vs the loop and
    the design floor (`bench.floor`; the four receivers take turns, `Session.interleaved`)."""
    s, n = session.settings, session.settings.messages
    makers = [
        baseline(n), session.hub(1, n), session.hub(s.fanout, n),
        design_floor(n, consumers=s.fanout),
    ]  # fmt: skip
    base, one, many, floor = session.interleaved(makers, n)
    session.keep_baseline(base)
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
        Row(
            f"{s.fanout} consumers, design floor (messages)",
            report.rate(floor.rate),
            b,
            floor.rate / base.rate,
        ),
        Row(f"{s.fanout} consumers: hub / design floor", "", "", many.rate / floor.rate),
        cpu_row("1 consumer", one, base),
        cpu_row(f"{s.fanout} consumers", many, base),
        cpu_row(f"{s.fanout} consumers, design floor", floor, base),
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
    """send -> consume() start at each fixed offered load: the loop, the hub and the design
    floor taking turns, ``--repeat`` rounds, each one's samples pooled over the rounds."""
    s = session.settings
    rows: list[Row] = []
    for load, count in sorted(s.latency_messages.items()):
        makers = [
            baseline(count, latency=True), session.hub(1, count, latency=True),
            design_floor(count, latency=True),
        ]  # fmt: skip
        base, hub, floor = session.paced(makers, count, load)
        samples = [_pooled(runs) for runs in (base, hub, floor)]
        rows += _latency_rows(load, samples[1], samples[0])
        rows += _floor_rows(load, samples[2], samples[1], samples[0])
        rows.append(
            Row(
                f"{load:,}/s: publisher achieved (lowest)",
                report.rate(min(r.send_rate for r in hub)),
                report.rate(min(r.send_rate for r in base)),
            )
        )
    return rows


def _pooled(runs: list[Run]) -> list[int]:
    """Every latency sample of one receiver's runs, sorted."""
    return sorted(chain.from_iterable(d.samples for run in runs for d in run.done.values()))


def _latency_rows(load: int, hub: list[int], base: list[int]) -> list[Row]:
    rows = []
    for label, fraction in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)):
        h = report.percentile(hub, fraction)
        b = report.percentile(base, fraction)
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


def _floor_rows(load: int, floor: list[int], hub: list[int], base: list[int]) -> list[Row]:
    """The design floor (`bench.floor`) against the loop, and the hub against the floor."""
    rows = []
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        f = report.percentile(floor, fraction)
        h = report.percentile(hub, fraction)
        b = report.percentile(base, fraction)
        rows.append(Row(f"{load:,}/s: {label}, design floor", report.micros(f), report.micros(b),
                        f / max(b, 1)))  # fmt: skip
        rows.append(Row(f"{load:,}/s: {label}, hub / design floor", "", "", h / max(f, 1)))
    return rows


def isolation(session: Session) -> list[Row]:
    """The fast consumer's throughput alone and with a stalled consumer beside it (taking turns,
    best of ``--repeat`` each, as the throughput runs)."""
    s, base = session.settings, session.baseline()
    n, b = s.messages, report.rate(base.rate)
    alone, beside = session.interleaved([session.hub(1, n), session.hub(1, n, stalled=True)], n)
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
    "amqp": amqp,  # these two need a broker: --amqp-url, else a private RabbitMQ node
    "amqp-scale": amqp_scale,
    "archive": archive,  # a private PostgreSQL cluster, and datanommer.models
}
DEFAULT = ["throughput", "latency", "isolation", "memory"]
